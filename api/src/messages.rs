//! Every error message in Chinese and English (issue 23 item 6). Errors are
//! written once, in English, where they arise (domain, store, workers, API); the
//! answer is put in the caller's language here, at the edge, from
//! `Accept-Language` — Chinese unless the caller prefers English, as the
//! console. `extensions.code` never changes: clients decide on the code, and
//! people read the message.
//!
//! The catalog pairs each message's English template with its Chinese one;
//! `{…}` marks a value (a field, a number, a seat) carried over, itself put in
//! the other language when the catalog knows it (an action, a reason). A test
//! scans the source for the places errors are written and fails for a
//! message the catalog lacks.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Request};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::Value;
use std::sync::OnceLock;

/// The languages the engine answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// 中文, the default.
    Chinese,
    /// English.
    English,
}

impl Language {
    /// The caller's preference from `Accept-Language`: English only when an
    /// English tag outranks every Chinese one; Chinese otherwise.
    pub fn of(headers: &HeaderMap) -> Self {
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map_or(Language::Chinese, Self::parse)
    }

    /// Reads an `Accept-Language` value, e.g. `en-US,en;q=0.9,zh;q=0.8`.
    pub fn parse(accept: &str) -> Self {
        let mut best: Option<(f32, Language)> = None;
        for item in accept.split(',').take(32) {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let weight = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let language = if tag == "en" || tag.starts_with("en-") {
                Language::English
            } else if tag == "zh" || tag.starts_with("zh-") {
                Language::Chinese
            } else {
                continue;
            };
            if weight > 0.0 && best.is_none_or(|(w, _)| weight > w) {
                best = Some((weight, language));
            }
        }
        best.map_or(Language::Chinese, |(_, language)| language)
    }

    /// The `Content-Language` of an answer in it.
    pub fn tag(self) -> &'static str {
        match self {
            Language::Chinese => "zh-CN",
            Language::English => "en",
        }
    }
}

/// `message` in `language`: the catalog's rendering when it knows the
/// message (in either language), else the message as written.
pub fn localize(message: &str, language: Language) -> String {
    // Messages we write are short; a long one carries a caller's input (a
    // parser's complaint about a hostile query) and is answered as written,
    // so the cost of matching stays bounded.
    if message.len() > MAX_LOCALIZED_BYTES {
        return message.to_string();
    }
    translate(message, language, 0).unwrap_or_else(|| message.to_string())
}

/// The longest message put into another language, in bytes.
const MAX_LOCALIZED_BYTES: usize = 1024;

/// How many values deep words are translated (a list of bookings inside a message).
const MAX_DEPTH: usize = 2;

/// Puts every `errors[].message` of a GraphQL-shaped JSON body in
/// `language`; true when something changed.
pub fn localize_body(body: &mut Value, language: Language) -> bool {
    let mut changed = false;
    if let Some(errors) = body.get_mut("errors").and_then(Value::as_array_mut) {
        for error in errors.iter_mut().take(100) {
            if let Some(Value::String(message)) = error.get_mut("message") {
                let localized = localize(message, language);
                if localized != *message {
                    *message = localized;
                    changed = true;
                }
            }
        }
    }
    changed
}

/// Puts every error of a GraphQL response in `language` (subscriptions,
/// whose answers do not pass the HTTP middleware).
pub fn localize_response(
    mut response: async_graphql::Response,
    language: Language,
) -> async_graphql::Response {
    for error in response.errors.iter_mut().take(100) {
        error.message = localize(&error.message, language);
    }
    response
}

/// Middleware: answers JSON bodies that carry `errors` in the caller's
/// language, and says which (`Content-Language`, `Vary: Accept-Language`).
/// Runs inside compression, so it reads the plain body.
pub async fn localize_errors(request: Request<Body>, next: Next) -> Response {
    let language = Language::of(request.headers());
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.contains("graphql-response+json"));
    if !is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    parts.headers.insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(language.tag()),
    );
    parts
        .headers
        .append(header::VARY, HeaderValue::from_static("accept-language"));
    // The handlers' JSON bodies are already whole in memory.
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::error!(%error, "cannot read an answer to localize it");
            return Response::from_parts(parts, Body::empty());
        }
    };
    let has_errors = bytes.windows(8).any(|w| w == b"\"errors\"");
    if has_errors {
        if let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) {
            if localize_body(&mut value, language) {
                parts.headers.remove(header::CONTENT_LENGTH);
                let text = serde_json::to_vec(&value).unwrap_or_else(|_| bytes.to_vec());
                return Response::from_parts(parts, Body::from(text));
            }
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// A piece of a template: text, or a value carried over (by its name; `{}`
/// values are numbered in order).
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Value(String),
}

/// A catalog entry, parsed.
struct Entry {
    english: Vec<Piece>,
    chinese: Vec<Piece>,
    /// No letters in its text (`{field} {reason}`): it matches only when its
    /// worded values are known too.
    loose: bool,
}

fn parse(template: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut unnamed = 0;
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        text.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        if !text.is_empty() {
            pieces.push(Piece::Text(std::mem::take(&mut text)));
        }
        let name = &rest[open + 1..open + close];
        let name = name.split(':').next().unwrap_or_default();
        let name = if name.is_empty() {
            unnamed += 1;
            format!("#{unnamed}")
        } else {
            name.to_string()
        };
        pieces.push(Piece::Value(name));
        rest = &rest[open + close + 1..];
    }
    text.push_str(rest);
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    pieces
}

fn entries() -> &'static [Entry] {
    static ENTRIES: OnceLock<Vec<Entry>> = OnceLock::new();
    ENTRIES.get_or_init(|| {
        let mut entries: Vec<Entry> = MESSAGES
            .iter()
            .map(|(english, chinese)| {
                let english = parse(english);
                let letters = english
                    .iter()
                    .filter_map(|p| match p {
                        Piece::Text(text) => {
                            Some(text.chars().filter(|c| c.is_alphabetic()).count())
                        }
                        Piece::Value(_) => None,
                    })
                    .sum::<usize>();
                Entry {
                    english,
                    chinese: parse(chinese),
                    loose: letters == 0,
                }
            })
            .collect();
        // The most specific template first.
        entries.sort_by_key(|e| std::cmp::Reverse(text_length(&e.english)));
        entries
    })
}

fn text_length(pieces: &[Piece]) -> usize {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Text(text) => text.chars().count(),
            Piece::Value(_) => 0,
        })
        .sum()
}

/// Matches `message` against `pieces`, returning the values by name; gives
/// up after `budget` attempts (backtracking over several values).
fn capture(pieces: &[Piece], message: &str, budget: &mut u32) -> Option<Vec<(String, String)>> {
    *budget = budget.checked_sub(1)?;
    match pieces.split_first() {
        None => message.is_empty().then(Vec::new),
        Some((Piece::Text(text), rest)) => {
            capture(rest, message.strip_prefix(text.as_str())?, budget)
        }
        // A last value may be empty (a hint that is not always there).
        Some((Piece::Value(name), [])) => Some(vec![(name.clone(), message.to_string())]),
        Some((Piece::Value(name), rest)) => {
            let Some(Piece::Text(next)) = rest.first() else {
                return None;
            };
            // The shortest value that lets the rest match.
            let mut from = message.chars().next().map_or(1, char::len_utf8);
            while from <= message.len() {
                let found = message[from..].find(next.as_str())?;
                let at = from + found;
                if let Some(mut values) = capture(rest, &message[at..], budget) {
                    values.insert(0, (name.clone(), message[..at].to_string()));
                    return Some(values);
                }
                from = at + message[at..].chars().next().map_or(1, char::len_utf8);
            }
            None
        }
    }
}

fn render(pieces: &[Piece], values: &[(String, String)]) -> String {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Text(text) => text.clone(),
            Piece::Value(name) => values
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default(),
        })
        .collect()
}

fn translate(message: &str, language: Language, depth: usize) -> Option<String> {
    if depth > MAX_DEPTH {
        return None;
    }
    for entry in entries() {
        for source in [&entry.english, &entry.chinese] {
            let Some(values) = capture(source, message, &mut 256) else {
                continue;
            };
            let mut known = true;
            let values: Vec<(String, String)> = values
                .into_iter()
                .map(|(name, value)| {
                    let translated = WORDED_VALUES
                        .contains(&name.as_str())
                        .then(|| translate_value(&value, language, depth + 1))
                        .flatten();
                    if translated.is_none() && value.contains(' ') {
                        known = false;
                    }
                    (name, translated.unwrap_or(value))
                })
                .collect();
            if entry.loose && !known {
                continue;
            }
            let target = match language {
                Language::English => &entry.english,
                Language::Chinese => &entry.chinese,
            };
            return Some(render(target, &values));
        }
    }
    None
}

/// A value in `language` when the catalog knows it (an action, a reason, a
/// list of them); None otherwise.
fn translate_value(value: &str, language: Language, depth: usize) -> Option<String> {
    // A list first: its items would otherwise be read as one value.
    if value.contains(", ") && value.matches(", ").count() < 50 {
        let parts: Vec<Option<String>> = value
            .split(", ")
            .map(|part| translate(part, language, depth))
            .collect();
        if parts.iter().all(Option::is_some) {
            let separator = match language {
                Language::Chinese => "、",
                Language::English => ", ",
            };
            return Some(
                parts
                    .into_iter()
                    .map(Option::unwrap_or_default)
                    .collect::<Vec<_>>()
                    .join(separator),
            );
        }
    }
    translate(value, language, depth)
}

/// Values that are words (put into the other language when the catalog knows
/// them); every other value (a field name, a number, an id) is carried as is.
const WORDED_VALUES: [&str; 6] = ["action", "reason", "reasons", "what", "kind", "bookings"];

/// `(English, 中文)` of every error message, and of the words put into them
/// (actions, reasons).
pub const MESSAGES: &[(&str, &str)] = &[
    // The edge: tokens, limits, requests.
    ("a bearer token is required", "需要登录凭证（Bearer token）"),
    ("the bearer token is invalid or expired", "登录凭证无效或已过期"),
    ("the bearer token lives longer than the accepted maximum of {max_seconds} s (FACESIGN_TOKEN_MAX_LIFETIME_MINUTES)", "登录凭证有效期超过允许的最长 {max_seconds} 秒（FACESIGN_TOKEN_MAX_LIFETIME_MINUTES）"),
    ("the bearer token names an unknown role", "登录凭证中的角色未知"),
    ("the bearer token was issued in the future", "登录凭证的签发时间晚于当前时间"),
    ("role {role} may not run {operation}", "角色 {role} 无权执行 {operation}"),
    ("rate limit exceeded; slow down", "请求过于频繁，请稍后再试"),
    ("this socket already runs {max} operations, the most allowed (FACESIGN_WS_MAX_SUBSCRIPTIONS); complete one first", "此连接已有 {max} 个进行中的操作，已达上限（FACESIGN_WS_MAX_SUBSCRIPTIONS）；请先结束一个"),
    ("this account already has {max} open sockets, the most allowed (FACESIGN_WS_MAX_PER_ACCOUNT)", "此账号已有 {max} 个打开的连接，已达上限（FACESIGN_WS_MAX_PER_ACCOUNT）"),
    ("the socket did not authenticate in connection_init in time (FACESIGN_WS_INIT_TIMEOUT_MS)", "连接未在时限内通过 connection_init 完成认证（FACESIGN_WS_INIT_TIMEOUT_MS）"),
    ("the bearer token has expired", "登录凭证已过期"),
    ("the server is stopping", "服务正在停止"),
    ("the socket sent too many messages", "此连接发送的消息过多"),
    ("request body over {limit} bytes", "请求体超过 {limit} 字节"),
    ("the request body could not be read", "无法读取请求体"),
    ("the request target is longer than {limit} bytes", "请求地址超过 {limit} 字节"),
    ("the request headers are larger than {limit} bytes", "请求头超过 {limit} 字节"),
    ("the request did not finish within its deadline of {ms} ms and was cancelled; retry it (with the same Idempotency-Key for a mutation)", "请求未在 {ms} 毫秒时限内完成，已取消；请重试（变更请求请使用相同的 Idempotency-Key）"),
    ("the server is stopping and cancelled the request; retry it (with the same Idempotency-Key for a mutation)", "服务正在停止，请求已取消；请重试（变更请求请使用相同的 Idempotency-Key）"),
    ("the request exceeds {limit} ({what}): at most {max} ({setting})", "请求超出限制 {limit}（{what}）：最多 {max}（{setting}）"),
    ("the query is not valid GraphQL: {reason}", "查询不是有效的 GraphQL：{reason}"),
    ("fragment {child} spreads itself (a cycle)", "片段 {child} 引用了自身（循环）"),
    ("and {more} more errors in the document", "文档中另有 {more} 处错误"),
    ("{field} contains the control character {character}; only tab and line breaks are allowed, and only in free text", "{field} 含有控制字符 {character}；只有自由文本可含制表符和换行"),
    // async-graphql's own validation, the ones clients meet.
    ("Unknown field \"{field}\" on type \"{type}\".{hint}", "类型 \"{type}\" 上没有字段 \"{field}\"。{hint}"),
    ("Unknown argument \"{argument}\" on field \"{field}\" of type \"{type}\".{hint}", "类型 \"{type}\" 的字段 \"{field}\" 没有参数 \"{argument}\"。{hint}"),
    ("Field \"{field}\" argument \"{argument}\" of type \"{type}\" is required but not provided", "字段 \"{field}\" 的参数 \"{argument}\"（类型 \"{type}\"）为必填，但未提供"),
    ("Invalid value for argument {reason}", "参数值无效：{reason}"),
    ("Variable \"${variable}\" is not defined", "变量 \"${variable}\" 未定义"),
    ("Field \"{field}\" of type \"{type}\" must have a selection of subfields", "字段 \"{field}\"（类型 \"{type}\"）须选择子字段"),
    ("Field \"{field}\" must not have a selection since type \"{type}\" has no subfields", "字段 \"{field}\" 的类型 \"{type}\" 没有子字段，不能选择"),
    ("the consistency token is not one this API issued", "一致性令牌不是本系统签发的"),
    ("the consistency token is not text", "一致性令牌不是文本"),
    ("this retry sends a different command than the first attempt with the same idempotency key did; use a new key", "此次重试与使用同一幂等键的首次请求命令不同；请使用新的幂等键"),
    ("the aggregate was changed concurrently {attempts} times in a row; retry later", "数据被并发修改，已连续冲突 {attempts} 次；请稍后重试"),
    ("{key} already has {what}: {holder}", "{key} 已有{what}：{holder}"),
    ("{key} already has {what}", "{key} 已有{what}"),
    ("an open interview task", "未结束的面谈任务"),
    ("internal error; see the server log", "内部错误，详见服务端日志"),
    ("page size must be between 1 and {max}", "每页条数须在 1 到 {max} 之间"),
    ("first must be between 1 and {max}", "first 须在 1 到 {max} 之间"),
    ("first must be between 1 and 200", "first 须在 1 到 200 之间"),
    ("first must be between 1 and 500", "first 须在 1 到 500 之间"),
    ("unknown role {role}", "未知角色 {role}"),
    ("unknown aggregate type {aggregate_type}", "未知的聚合类型 {aggregate_type}"),
    ("give exactly one of `at` and `sequence`", "`at` 与 `sequence` 须且只能给出一个"),
    ("no event of that aggregate by then", "该时点之前此对象没有任何事件"),
    ("id must be a UUID", "id 须为 UUID"),
    ("callId must be a UUID", "callId 须为 UUID"),
    ("id is not a task id", "id 不是面谈任务编号"),
    ("database error: {0}", "数据库错误：{0}"),
    ("migration failed: {0}", "数据库迁移失败：{0}"),
    ("unsupported database URL `{0}`: use postgres://… or sqlite://…", "不支持的数据库地址 `{0}`：请使用 postgres://… 或 sqlite://…"),
    ("corrupt stored event at {aggregate_type}/{aggregate_id}#{sequence}: {reason}", "存储的事件已损坏：{aggregate_type}/{aggregate_id}#{sequence}：{reason}"),
    ("cannot project {event_type} at {position}: {reason}", "无法投影 {position} 处的 {event_type}：{reason}"),
    ("checkpoint of {0} moved concurrently", "{0} 的检查点被并发移动"),
    ("event log: {0}", "事件日志：{0}"),
    ("read model database: {0}", "读模型数据库：{0}"),
    ("no parked event of {worker} at {position}", "{worker} 在 {position} 没有暂存的事件"),
    ("parked events: {0}", "暂存事件：{0}"),
    // Ownership: whose record it is.
    ("{what} not found", "{what}不存在"),
    ("interview task", "面谈任务"),
    ("loan application", "贷款申请"),
    ("work order", "工单"),
    ("account managers do not read work orders", "客户经理不能查看工单"),
    ("role {role} sees {filter} masked and may not filter by it", "角色 {role} 看到的 {filter} 已脱敏，不能按其筛选"),
    ("the task is not managed by account manager {id}", "该任务不由客户经理 {id} 管理"),
    ("seat {seat} holds the task until it ends the interview or puts the task back (放回)", "坐席 {seat} 正在处理该任务，直至其结束面谈或放回"),
    ("the task is not booked on, offered to or connected by seat {id}", "该任务未预约给、未分配给、也未由坐席 {id} 接通"),
    ("the application is not managed by account manager {id}", "该申请不由客户经理 {id} 管理"),
    ("the work order was neither created by, connected by nor offered to seat {id}", "该工单既非坐席 {id} 创建，也未由其接通或分配给它"),
    ("seat {seat} may act only as itself, not as seat {seat_no}", "坐席 {seat} 只能以自己的身份操作，不能代坐席 {seat_no}"),
    ("a seat reads a loan application through the interview task it serves", "坐席只能通过其服务的面谈任务查看贷款申请"),
    ("the call was not given to seat {seat}", "该来电未分配给坐席 {seat}"),
    ("seat {seat} reads its own call records only", "坐席 {seat} 只能查看自己的通话记录"),
    ("a customer leaves the room for themselves only", "客户只能为自己离开面谈室"),
    // 面谈任务 (000, 001).
    ("interview task not found", "面谈任务不存在"),
    ("an interview task with this id already exists", "该编号的面谈任务已存在"),
    ("contractNo must be 1 to 64 characters", "合同号 contractNo 须为 1 到 64 个字符"),
    ("{field} {reason}", "{field} {reason}"),
    ("participant {field} {reason}", "参与人 {field} {reason}"),
    ("a task needs at least one participant", "面谈任务至少需要一名参与人"),
    ("ID number {id_number} is listed under two different names", "身份证号 {id_number} 对应了两个不同的姓名"),
    ("exactly one participant must be the main borrower (BORROWER); none is", "须有且仅有一名参与人为主借款人（BORROWER）；当前没有"),
    ("exactly one participant must be the main borrower (BORROWER); {count} are", "须有且仅有一名参与人为主借款人（BORROWER）；当前有 {count} 名"),
    ("the appointment must start after now and within {days} days", "预约时间须晚于当前时间且在 {days} 天之内"),
    ("another appointment request of this task is in progress; retry shortly", "该任务的另一个预约请求正在处理中，请稍后重试"),
    ("only the main borrower, or staff on the borrower's behalf, may {action}", "只有主借款人或代其操作的工作人员可以{action}"),
    ("only a supervisor may reassign an appointment", "只有主管可以改派预约"),
    ("the appointment was already rescheduled {max} times, the most allowed", "该预约已改约 {max} 次，已达上限"),
    ("the appointment window has opened; it can no longer be rescheduled", "预约时段已开始，不能再改约"),
    ("the task has no appointment yet; book one first", "该任务尚无预约，请先预约"),
    ("the appointment is already with seat {seat_no}", "该预约已在坐席 {seat_no}"),
    ("the interview can start only inside its appointment window", "只能在预约时段内开始面谈"),
    ("the task kind does not include the step {step}", "该任务类型不含步骤 {step}"),
    ("no participant of the task has that ID number", "该任务没有此身份证号的参与人"),
    ("the main borrower joins the interview first", "主借款人须先进入面谈"),
    ("the property is in {province}, the bank's own province: 省内 cases have no video interview", "房产位于 {province}，属本行所在省份：省内案件不做视频面谈"),
    ("the participant is not in the interview room", "该参与人不在面谈室中"),
    ("the time to rejoin this call ended at {until} Beijing time; the seat can start a new call", "重新加入本次通话的时限已于北京时间 {until} 截止；坐席可发起新的通话"),
    ("the document was already pushed", "该文件已推送"),
    ("no document with that id was pushed to this task", "该任务未推送过此编号的文件"),
    ("the document was already signed", "该文件已签署"),
    ("the interview cannot pass yet; missing: {missing}", "面谈暂不能通过；尚缺：{missing}"),
    ("end the call before concluding", "请先结束通话再给出面谈结论"),
    ("the task is not waiting for that quality-control decision", "该任务不在等待此质检结论"),
    ("cannot {action} a task that is {from}", "不能{action}状态为 {from} 的任务"),
    ("book", "预约"),
    ("cancel", "撤销"),
    ("conclude", "给出结论"),
    ("confirm a booking that is no longer requested on", "确认已不再请求的预约于"),
    ("put back", "放回"),
    ("reassign", "改派"),
    ("record session work on", "记录面谈操作于"),
    ("request a second interview", "申请二次面谈"),
    ("request a second interview for", "申请二次面谈于"),
    ("reschedule", "改约"),
    ("start", "开始"),
    ("must be non-empty and not too long", "不能为空且不能过长"),
    ("must be 1 to 32 characters", "须为 1 到 32 个字符"),
    ("must be 1 to 64 characters", "须为 1 到 64 个字符"),
    ("must be at most 200 characters", "最多 200 个字符"),
    ("must be at most 16 characters", "最多 16 个字符"),
    ("must name at least one role", "须至少指定一个角色"),
    ("must be an 11-digit mainland mobile number", "须为 11 位中国大陆手机号码"),
    ("is not an 18-character resident ID number with a valid check digit", "不是校验位正确的 18 位居民身份证号"),
    ("must be a positive decimal number", "须为正的十进制数"),
    ("latitude must be within ±90 and longitude within ±180", "纬度须在 ±90 之内，经度须在 ±180 之内"),
    ("must list 1 to 50 photos", "须包含 1 到 50 张照片"),
    ("must be between 0 and 1", "须在 0 到 1 之间"),
    ("must hold 1 to 100 entries", "须包含 1 到 100 项"),
    ("must be between 1 and 28", "须在 1 到 28 之间"),
    ("must be 1 to 200 characters", "须为 1 到 200 个字符"),
    ("there is no loan information to confirm", "没有可确认的贷款信息"),
    ("loanInfo comes from the credit system only", "贷款信息 loanInfo 只能由信贷系统提供"),
    ("a date range gives both from and to", "按时间段查询须同时给出起止日期"),
    ("the range must run forwards over at most {max_days} days", "日期范围须起早于止，且不超过 {max_days} 天"),
    ("branch must be at most 32 characters", "分行 branch 最多 32 个字符"),
    ("enter a valid e-mail address", "请输入正确的电子邮箱"),
    ("must be between 1 and 360", "须在 1 到 360 之间"),
    ("must change at least one field", "须至少修改一个字段"),
    ("must satisfy queuedAt <= answeredAt <= now", "须满足 queuedAt <= answeredAt <= 当前时间"),
    ("entries must be 1 to 64 characters", "每项须为 1 到 64 个字符"),
    ("idNumber names the participant who left", "idNumber 指明离开的参与人"),
    ("province must be 1 to 32 characters", "省份须为 1 到 32 个字符"),
    ("no task {id}", "面谈任务 {id} 不存在"),
    // 质检 (001 §2.3).
    ("quality-control case not found", "质检案件不存在"),
    ("a reject needs at least one reason", "拒绝至少需要一个原因"),
    ("reason OTHER needs its text", "原因“其他”需要填写说明"),
    ("claim the case before deciding or releasing it", "请先领取案件，再作出结论或释放"),
    ("the case is already decided", "该案件已有结论"),
    ("the case is claimed by {reviewer}", "该案件已被 {reviewer} 领取"),
    ("is too long", "过长"),
    ("is required for a reject", "拒绝时必填"),
    ("`to` must be after `from` and at most 31 days later", "`to` 须晚于 `from` 且相差不超过 31 天"),
    ("`to` must not be before `from`, at most 366 days later", "`to` 不能早于 `from`，且相差不超过 366 天"),
    // 坐席、排班、预约 (000, 004).
    ("seat not found", "坐席不存在"),
    ("a seat with this number is already registered", "该坐席号已注册"),
    ("seat has {count} future booking(s); reassign them first: {bookings}", "该坐席尚有 {count} 个未来预约，请先改派：{bookings}"),
    ("task {task} at {start} Beijing time", "任务 {task}（北京时间 {start}）"),
    ("the seat is not signed in", "坐席未签入"),
    ("the seat is in a call (忙碌); presence cannot change until it ends", "坐席正在通话（忙碌），通话结束前不能更改状态"),
    ("a call is offered to the seat; answer or transfer it first", "有来电正分配给该坐席，请先接听或转接"),
    ("the seat is not available for a call", "坐席当前不能接听来电"),
    ("this call is not offered to the seat", "该来电未分配给此坐席"),
    ("忙碌 is set by the system when a call starts", "“忙碌”由系统在通话开始时设置"),
    ("seat is disabled", "坐席已停用"),
    ("slot is outside the seat's working hours", "时段不在该坐席的工作时间内"),
    ("seat is already booked at that time", "该坐席此时段已被预约"),
    ("a participant already has an interview at that time", "有参与人在此时段已有面谈"),
    ("a slot may last at most {max_minutes} minutes", "一个时段最长 {max_minutes} 分钟"),
    ("a slot must end after it starts", "时段的结束时间须晚于开始时间"),
    ("working period on {weekday} ends before it starts", "{weekday} 的工作时段结束早于开始"),
    ("working periods on {weekday} overlap", "{weekday} 的工作时段相互重叠"),
    ("seatNo must be 1 to 32 letters, digits, - or _", "坐席号须为 1 到 32 个字母、数字、- 或 _"),
    ("seatNos must list 1 to 500 seats", "seatNos 须列出 1 到 500 个坐席"),
    ("slotMinutes must be between 5 and 240", "slotMinutes 须在 5 到 240 之间"),
    ("`to` must be after `from` and at most {max_days} days later", "`to` 须晚于 `from` 且相差不超过 {max_days} 天"),
    ("unknown seats: {seats}", "未知坐席：{seats}"),
    ("seat group not found", "坐席组不存在"),
    ("a seat group with this code exists", "该编码的坐席组已存在"),
    ("{what} entries must be 1 to 64 characters", "{what} 的每项须为 1 到 64 个字符"),
    // 来电与分配 (004).
    ("call not found", "来电不存在"),
    ("inbound call not found", "来电不存在"),
    ("a call with this id exists", "该编号的来电已存在"),
    ("a call needs a task and a channel", "来电须关联任务和渠道"),
    ("the call is already with this seat", "该来电已在此坐席"),
    ("the call is not offered to a seat", "该来电未分配给任何坐席"),
    ("the call is not waiting in the queue", "该来电不在排队中"),
    ("the call is over", "该通话已结束"),
    ("the call was given to seat {seat_no}", "该来电已分配给坐席 {seat_no}"),
    ("the call was not answered", "该来电未被接听"),
    ("seat number must be 1 to 64 characters", "坐席号须为 1 到 64 个字符"),
    ("dispatch rule refused", "分配规则拒绝"),
    ("no call {call_id}", "来电 {call_id} 不存在"),
    ("a call is not accepted while the task is {status}", "任务状态为 {status} 时不接受来电"),
    ("no other seat is free to take the call", "没有其他空闲坐席可接此来电"),
    ("no task or work order {task_id}", "面谈任务或工单 {task_id} 不存在"),
    // 渠道、话术、媒体、账号 (004 admin).
    ("channel not found", "渠道不存在"),
    ("a channel with this code exists", "该编码的渠道已存在"),
    ("only a disabled channel can be deleted", "只能删除已停用的渠道"),
    ("a GPS area needs a valid centre and a radius of 1 m to 100 km", "GPS 区域需要有效的中心点和 1 米到 100 公里的半径"),
    ("channelCode must be 1 to 32 characters", "渠道编码须为 1 到 32 个字符"),
    ("This channel is not authorised to reach the bank's video seats; please contact your account manager.", "当前渠道未被授权接入我行视频坐席，请联系您的客户经理。"),
    ("script not found", "话术不存在"),
    ("a script with this code exists", "该编码的话术已存在"),
    ("script {0} already covers this channel and product", "话术 {0} 已覆盖此渠道和产品"),
    ("the default script cannot be removed while other scripts exist; make another the default first", "仍有其他话术时不能删除默认话术；请先将其他话术设为默认"),
    ("content must be 1 to 10000 characters", "内容须为 1 到 10000 个字符"),
    ("code must be 1 to 32 characters", "编码须为 1 到 32 个字符"),
    ("media not found", "媒体不存在"),
    ("media with this code exists", "该编码的媒体已存在"),
    ("title must be 1 to 100 characters", "标题须为 1 到 100 个字符"),
    ("url must be an http(s) address or a path on this server", "url 须为 http(s) 地址或本服务上的路径"),
    ("account not found", "账号不存在"),
    ("an account with this login exists", "该登录名的账号已存在"),
    ("email is not an address", "邮箱地址无效"),
    ("name must be 1 to 64 characters", "姓名须为 1 到 64 个字符"),
    ("phone must be an 11-digit mobile number", "手机号须为 11 位手机号码"),
    ("staff accounts are for seats, reviewers, supervisors, admins, auditors and account managers", "员工账号仅限坐席、质检员、主管、管理员、审计员和客户经理"),
    // 工单 (004).
    ("work order not found", "工单不存在"),
    ("a work order with this id exists", "该编号的工单已存在"),
    ("not allowed while the work order is {0}", "工单状态为 {0} 时不允许此操作"),
    ("a remark is 1 to 1000 characters", "备注须为 1 到 1000 个字符"),
    ("idNumber and policyNo are at most 32 characters", "idNumber 和 policyNo 最多 32 个字符"),
    ("{what} must be 1 to 64 characters", "{what} 须为 1 到 64 个字符"),
    ("phone must be an 11-digit mainland mobile number", "手机号须为 11 位中国大陆手机号码"),
    ("no work order {id}", "工单 {id} 不存在"),
    // 贷款 (002, 003).
    ("loan application not found", "贷款申请不存在"),
    ("the loan application already exists", "该贷款申请已存在"),
    ("cannot move from {from} to {to}", "不能从 {from} 变更为 {to}"),
    ("not a step of the {product} pipeline", "不是 {product} 流程中的步骤"),
    ("{0} is required first", "须先完成 {0}"),
    ("a {route} approval cannot be given by {role}", "{route} 审批不能由 {role} 作出"),
    ("the amount {amount} is above the approved credit limit {limit}", "金额 {amount} 超过核准授信额度 {limit}"),
    ("the applicant is not eligible (无资格)", "申请人无资格"),
    ("the interview has not passed (已面谈（待提交面签）) yet", "面谈尚未通过（已面谈（待提交面签））"),
    ("a manually approved 融信贷 loan is signed and disbursed offline, not online", "人工审批的融信贷贷款须线下签约放款，不能线上办理"),
    ("the face check failed {cap} times today (Asia/Shanghai); try again tomorrow", "今日人脸识别已失败 {cap} 次（北京时间），请明天再试"),
    ("prepayment {0} is still open", "提前还款 {0} 尚未结清"),
    ("{kind} {id} is not open on this loan", "该贷款没有未完成的{kind} {id}"),
    ("disbursement request", "放款请求"),
    ("prepayment", "提前还款"),
    ("repayment", "还款"),
    ("the settlement of {amount} on {on} does not match the approved quote of {quoted} on {quoted_on}", "{on} 结清金额 {amount} 与核准报价（{quoted_on}，{quoted}）不符"),
    ("{amount} is more than everything still owed ({owed})", "{amount} 超过全部未还金额（{owed}）"),
    ("a partial prepayment must be below the principal not yet due ({outstanding})", "部分提前还款须低于未到期本金（{outstanding}）"),
    ("a partial prepayment must be positive and below the outstanding principal {outstanding}", "部分提前还款须为正数且低于剩余本金 {outstanding}"),
    ("a partial prepayment gives both the principal and the choice; a full one neither", "部分提前还款须同时给出本金和方式；全额提前还款两者都不给"),
    ("a prepayment's settlement names its prepaymentId, and only it does", "提前还款的结清须且只能注明其 prepaymentId"),
    ("no period is left to prepay", "已无可提前还款的期次"),
    ("the amount must be positive, in fen", "金额须为正数，单位为分"),
    ("amount must be positive, in fen", "金额须为正数，单位为分"),
    ("principal must be a positive amount in fen", "本金须为正数，单位为分"),
    ("creditLimit must be positive, in fen", "授信额度须为正数，单位为分"),
    ("the annual rate must be between 0 and 1", "年利率须在 0 到 1 之间"),
    ("the term must be 1 to 360 months", "期限须为 1 到 360 个月"),
    ("account must be 1 to 40 characters", "账号须为 1 到 40 个字符"),
    ("signatureRef must be 1 to 500 characters", "signatureRef 须为 1 到 500 个字符"),
    ("{field} must be 1 to 500 characters", "{field} 须为 1 到 500 个字符"),
    ("messageId must be 1 to 200 characters", "messageId 须为 1 到 200 个字符"),
    ("debitDate must be today or later", "扣款日须为今天或之后"),
    ("firstDueDate must be after valueDate", "首次还款日须晚于起息日"),
    ("valueDate is out of range", "起息日 valueDate 超出范围"),
    ("a paid result gives valueDate", "放款成功的结果须给出起息日 valueDate"),
    ("the credit system approves with the creditLimit it granted", "授信系统审批通过时须给出授信额度 creditLimit"),
    ("the credit system approves with the annualRate it offers", "授信系统审批通过时须给出执行年利率 annualRate"),
    ("a 融信秒贷 application names termMonths", "融信秒贷申请须给出贷款期限 termMonths"),
    ("termMonths must be 1 to 360", "贷款期限 termMonths 须为 1 到 360 个月"),
    ("termMonths must be one the bank allows: {}", "贷款期限 termMonths 须为银行允许的期限之一：{}"),
    ("{field} must be positive, in fen", "{field} 须为正数，单位为分"),
    ("version must be 1 to 40 characters", "版本 version 须为 1 到 40 个字符"),
    ("the contract's terms changed (now version {version}); review them and sign again", "合同要素已变更（现为第 {version} 版），请重新阅读后再签署"),
    ("the contract is already signed", "合同已签署"),
    ("{day} is not in {year}", "{day} 不在 {year} 年内"),
    ("{0} is listed twice", "{0} 重复列出"),
    ("{0} is a weekday: only a weekend day is marked as worked (调休)", "{0} 是工作日：只有周末才能标记为调休上班"),
    ("the year must be between 2000 and 2100", "年份须在 2000 到 2100 之间"),
    ("another calendar load was stored at the same time; load again", "另一次日历导入同时保存，请重新导入"),
    ("{} is not a date (YYYY-MM-DD)", "{} 不是日期（YYYY-MM-DD）"),
    ("name must be at most 40 characters", "名称最多 40 个字符"),
    ("this outcome gives {field}", "该处理结果须给出 {field}"),
    ("a manual case is resolved with the core's answer", "人工落地须以核心系统的应答处理"),
    ("the answer must be the core's answer to {request_id}", "须为核心系统对 {request_id} 的应答"),
    ("the core's answer to {request_id} contradicts the manual resolution ({recorded})", "核心系统对 {request_id} 的应答与人工处理结果（{recorded}）不一致"),
    ("a partner loan opens when its partner order is disbursed", "合作方贷款在其订单放款时开立"),
    ("applicationNo must be 1 to 64 characters", "申请编号须为 1 到 64 个字符"),
    ("{field} is not a date (YYYY-MM-DD)", "{field} 不是日期（YYYY-MM-DD）"),
    ("{field} is not a decimal number", "{field} 不是十进制数"),
    ("from..to must be 1 to 366 days, in order", "from..to 须按先后给出，且为 1 到 366 天"),
    // 合作方 (002).
    ("order not found", "订单不存在"),
    ("not allowed while the order is {status} (code {code})", "订单状态为 {status}（代码 {code}）时不允许此操作"),
    ("拒贷: {0}", "拒贷：{0}"),
    ("orderNo must be 1 to 64 characters", "订单号须为 1 到 64 个字符"),
    ("name and ID number are required", "姓名和身份证号为必填项"),
    ("amount must be positive and the term 1 to 36 months", "金额须为正数，期限须为 1 到 36 个月"),
    ("bankCode must be 1 to 20 letters or digits", "银行编码须为 1 到 20 个字母或数字"),
    ("cardNo must be 12 to 30 digits", "卡号须为 12 到 30 位数字"),
    ("the amount exceeds the approved limit", "金额超过核准额度"),
    ("callback not found", "回调不存在"),
    ("only a FAILED callback can be retried", "只有失败的回调可以重试"),
    ("the callback URL must be http(s)", "回调地址须为 http(s)"),
    ("unknown partner", "未知合作方"),
    ("the body must be a JSON object of partner, timestamp, nonce, bizContent and sign: {e}", "请求体须为包含 partner、timestamp、nonce、bizContent 和 sign 的 JSON 对象：{e}"),
    ("the body must be a JSON object of partner, timestamp, nonce, bizContent and sign", "请求体须为包含 partner、timestamp、nonce、bizContent 和 sign 的 JSON 对象"),
    ("no such partner operation", "没有此合作方接口"),
    ("bizContent is not a JSON document", "bizContent 不是 JSON 文档"),
    ("the request is larger than 64 KiB", "请求超过 64 KiB"),
    ("the request is not signed: sign is missing or empty", "请求未签名：sign 缺失或为空"),
    ("the signature does not match", "签名不匹配"),
    ("the timestamp is outside the accepted window", "时间戳不在允许的时间窗口内"),
    ("timestamp must be milliseconds since the epoch", "timestamp 须为自纪元起的毫秒数"),
    ("the nonce was used before (a replayed request)", "nonce 已被使用过（重放请求）"),
    ("nonce must be 1 to 64 characters", "nonce 须为 1 到 64 个字符"),
    ("bizContent.amount must be a decimal amount", "bizContent.amount 须为十进制金额"),
    ("bizContent.amount {amount} is above the approved limit {limit}", "bizContent.amount {amount} 超过核准额度 {limit}"),
    ("bizContent.bankCode {bank_code} is not a supported bank (see the banks operation)", "bizContent.bankCode {bank_code} 不是支持的银行（见 banks 接口）"),
    ("bizContent.idNumber has no valid birth date", "bizContent.idNumber 中的出生日期无效"),
    ("bizContent.termMonths must be a whole number", "bizContent.termMonths 须为整数"),
    ("bizContent.{field} is required", "bizContent.{field} 为必填项"),
    ("no borrow order for {id}", "没有 {id} 的借款订单"),
    ("no order {id}", "订单 {id} 不存在"),
    ("no partner operation {other}", "没有合作方接口 {other}"),
    ("no repayment {repayment_no} on this order", "该订单没有还款 {repayment_no}"),
    ("the order has no approved credit yet (授信未通过)", "该订单尚未授信通过（授信未通过）"),
    ("the order's loan has not been disbursed (放款) yet", "该订单的贷款尚未放款"),
    // 短信 (004).
    ("no SMS gateway is configured", "未配置短信网关"),
    ("no message {id} was handed to the gateway", "短信 {id} 未交给网关发送"),
    ("not a delivery report: {e}", "不是送达回执：{e}"),
    ("status must be DELIVERED or UNDELIVERED", "status 须为 DELIVERED 或 UNDELIVERED"),
    ("a delivery report needs the gateway's bearer token", "送达回执需要网关的 Bearer 令牌"),
    // Flow reasons recorded in Chinese, in English for English readers.
    ("Rejected by quality control (a sampled pass): {reasons}", "质检拒件（抽样通过）: {reasons}"),
    ("The customer disputes the offer", "客户对方案有异议"),
    ("Double booking", "双重预约"),
];

#[cfg(test)]
mod tests;
