//! The partner REST API under `/partner/v1` (002): 订单信息推送, 用户过滤,
//! 用户确认借款, 审核结果查询, 放款结果查询, 还款计划查询.
//!
//! Every request is a JSON envelope of strings (parsed and verified by
//! `domain::partner_order::signature`, which the fuzz target exercises) — `partner`, `timestamp` (ms),
//! `nonce`, `bizContent` (the business JSON as a string) and `sign`: the MD5 of
//! the other four and the request's `method` and `path`, sorted by name as
//! `k=v&…&key=<secret>` (docs/partners.md). A request is refused (401, nothing
//! changes) when the partner is unknown, the signature is wrong, the
//! timestamp is outside the window or the nonce was used before. Requests are
//! rate limited per address before any of that, and per partner after; a
//! refusal before verification is only tallied in the operation log.

use crate::messages::Language;
use domain::message::{message, Message};
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::log::Actor;
use domain::partner_order::signature::{EnvelopeError, SignedRequest};
use domain::partner_order::{
    order_id, BorrowRequest, LoanResultCode, OrderDetails, PartnerOrder, PartnerOrderCommand,
};
use domain::ErrorCode;
use projections::loan_ledger::LoanLedger;
use projections::partners::Partners;
use rust_decimal::Decimal;
use secrecy::ExposeSecret;
use serde_json::{json, Value};

use crate::access::record;
use crate::error::{rest_refusal, ApiError};
use crate::state::AppState;
use domain::role::Role;

fn ok(data: Value) -> Response {
    (StatusCode::OK, Json(json!({ "code": "OK", "data": data }))).into_response()
}

fn unauthenticated(message: Message) -> ApiError {
    ApiError::new(ErrorCode::Unauthenticated, message)
}

/// The operations of the gateway; anything else is refused before the body is read.
pub const OPERATIONS: [&str; 13] = [
    "orders",
    "user-filter",
    "banks",
    "agreements",
    "confirm-borrow",
    "audit-result",
    "loan-result",
    "bind-card",
    "repayment-plan",
    "repay-trial",
    "repay",
    "repay-result",
    "loan-trial",
];

/// Why a request did not reach its operation.
enum NotThrough {
    /// Refused before its partner was verified: what it claimed (a
    /// configured partner code, else nothing) and why.
    Unverified { claimed: String, error: ApiError },
    /// A verified partner over its own rate.
    RateLimited,
}

/// Checks the envelope, its signature over the operation (method and path),
/// the partner's rate and the request's freshness; returns the partner's code.
async fn authenticate(
    state: &AppState,
    envelope: &SignedRequest,
    path: &str,
) -> Result<String, NotThrough> {
    let unverified = |claimed: &str, error: ApiError| NotThrough::Unverified {
        claimed: claimed.to_string(),
        error,
    };
    let partner = state
        .partner_directory
        .get(&envelope.partner)
        .ok_or_else(|| unverified("", unauthenticated(message!("unknown partner"))))?;
    let code = partner.code.as_str();
    // During a rotation's overlap the old secret still signs.
    let secrets = partner.secret.accepted();
    let signed_by =
        |verify: &dyn Fn(&str) -> bool| secrets.iter().any(|secret| verify(secret.expose_secret()));
    if !signed_by(&|secret| envelope.verify_operation(secret, "POST", path)) {
        // The old form (no operation signed), while the bank still allows it.
        let today = crate::shanghai_today(state);
        let legacy_allowed = state
            .config
            .partner_legacy_signature_until
            .is_some_and(|until| today <= until);
        if !(legacy_allowed && signed_by(&|secret| envelope.verify(secret))) {
            return Err(unverified(
                code,
                unauthenticated(message!("the signature does not match")),
            ));
        }
        tracing::warn!(partner = code, "a partner request signed the old way, without its operation (FACESIGN_PARTNER_LEGACY_SIGNATURE_UNTIL)");
        state.metrics.increment(
            "facesign_partner_legacy_signatures_total",
            "Partner requests accepted with the old signature, which does not cover the operation.",
            store::metrics::labels(&[("partner", code)]),
            1,
        );
    }
    let sent = envelope
        .timestamp
        .parse::<i64>()
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .ok_or_else(|| {
            unverified(
                code,
                unauthenticated(message!("timestamp must be milliseconds since the epoch")),
            )
        })?;
    let now = state.bus.services().clock.now();
    if (now - sent).abs() > state.partner_timestamp_window {
        return Err(unverified(
            code,
            unauthenticated(message!("the timestamp is outside the accepted window")),
        ));
    }
    if envelope.nonce.is_empty() || envelope.nonce.len() > 64 {
        return Err(unverified(
            code,
            unauthenticated(message!("nonce must be 1 to 64 characters")),
        ));
    }
    let pool = state.database.read_models();
    let replayed = || {
        unverified(
            code,
            unauthenticated(message!("the nonce was used before (a replayed request)")),
        )
    };
    // A replay never reaches the partner's rate (it would spend the real
    // partner's allowance); the rate comes before the nonce is spent, so a
    // request refused for it may be sent again as it is.
    if workers::partners::nonce_used(pool, code, &envelope.nonce)
        .await
        .map_err(|e| unverified(code, ApiError::from(e)))?
    {
        return Err(replayed());
    }
    if !state.doors.partner_by_partner.allow(code) {
        return Err(NotThrough::RateLimited);
    }
    let fresh = workers::partners::use_nonce(pool, code, &envelope.nonce, &crate::rfc3339(now))
        .await
        .map_err(|e| unverified(code, ApiError::from(e)))?;
    if !fresh {
        return Err(replayed());
    }
    Ok(code.to_string())
}

fn text<'a>(content: &'a Value, field: &str) -> Result<&'a str, ApiError> {
    content[field]
        .as_str()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::validation(message!("bizContent.{field} is required")))
}

/// Sends `command` to aggregate `id` as the partner (its own orders and loans
/// only: their ids carry the partner's code).
async fn send_to<A>(
    state: &AppState,
    partner: &str,
    id: &str,
    command: A::Command,
) -> Result<(), ApiError>
where
    A: cqrs_es::Aggregate<Services = domain::services::DomainServices>
        + domain::reservation::Reservations,
    A::Command: Clone,
    A::Error: domain::error::DomainError,
{
    let context = store::CommandContext::for_request(
        Actor {
            id: partner.to_string(),
            role: domain::role::Role::Partner.as_str().to_string(),
        },
        state.bus.services().ids.new_id().to_string(),
    );
    crate::command::send_as::<A>(state, id, command, &context, &|_| Ok(())).await?;
    Ok(())
}

async fn send(
    state: &AppState,
    partner: &str,
    id: &str,
    command: PartnerOrderCommand,
) -> Result<(), ApiError> {
    send_to::<PartnerOrder>(state, partner, id, command).await
}

/// The ledger of the order's loan (opened when the order was disbursed).
async fn loan_ledger(
    state: &AppState,
    id: &str,
) -> Result<domain::loan_application::ledger::Ledger, ApiError> {
    match LoanLedger::get(state.database.read_models(), id)
        .await
        .map_err(ApiError::internal)?
    {
        Some((ledger, _)) => Ok(ledger),
        None => Err(ApiError::new(
            ErrorCode::InvalidTransition,
            message!("the order's loan has not been disbursed (放款) yet"),
        )),
    }
}

/// The partner's product settings (002 item 25).
fn settings_of(
    state: &AppState,
    partner: &str,
) -> Result<workers::partners::PartnerSettings, ApiError> {
    state
        .partner_directory
        .get(partner)
        .map(|p| p.settings.clone())
        .ok_or_else(|| unauthenticated(message!("unknown partner")))
}

/// The age on `day` of the holder of an 18-digit ID number (birth date at 7–14).
fn age_on(id_number: &str, day: chrono::NaiveDate) -> Option<u32> {
    use chrono::Datelike;
    let born = chrono::NaiveDate::parse_from_str(id_number.get(6..14)?, "%Y%m%d").ok()?;
    day.years_since(born).filter(|_| born.year() > 1900)
}

/// An amount as the partner reads it: CNY with two decimals.
fn money(amount: Decimal) -> String {
    format!("{amount:.2}")
}

/// The plan with each period's state on `day`.
fn plan_of(ledger: &domain::loan_application::ledger::Ledger, day: chrono::NaiveDate) -> Value {
    let rate = ledger.terms.penalty_annual_rate;
    Value::Array(
        ledger
            .periods
            .iter()
            .map(|p| {
                json!({
                    "period": p.period, "dueDate": p.due_date,
                    "principal": money(p.principal), "interest": money(p.interest),
                    "penalty": money(p.penalty_through(day, rate)),
                    "paidPrincipal": money(p.paid_principal), "paidInterest": money(p.paid_interest),
                    "paidPenalty": money(p.paid_penalty),
                    "owed": money(p.owed_through(day, rate)),
                    "state": domain::wire_name(&p.state(day)),
                })
            })
            .collect(),
    )
}

async fn handle(
    state: &AppState,
    operation: &str,
    partner: &str,
    content: &Value,
) -> Result<Value, ApiError> {
    let order_no = || text(content, "orderNo");
    match operation {
        "orders" => {
            let details = OrderDetails {
                partner: partner.to_string(),
                order_no: order_no()?.to_string(),
                partner_uid: content["uid"].as_str().unwrap_or_default().to_string(),
                customer_name: text(content, "name")?.to_string(),
                id_number: text(content, "idNumber")?.to_string(),
                phone: text(content, "phone")?.to_string(),
            };
            let id = order_id(partner, &details.order_no);
            send(state, partner, &id, PartnerOrderCommand::Push(details)).await?;
            status_of(state, &id).await
        }
        // 用户过滤 with the partner's 准入规则 and 可借日期 (item 25).
        "user-filter" => {
            let id_number = text(content, "idNumber")?.to_uppercase();
            let settings = &settings_of(state, partner)?;
            let pool = state.database.read_models();
            let refuse = |reason: String| Ok(json!({ "accept": false, "reason": reason }));
            let age = age_on(&id_number, crate::shanghai_today(state)).ok_or_else(|| {
                ApiError::validation(message!("bizContent.idNumber has no valid birth date"))
            })?;
            let admission = &settings.admission;
            if !(admission.min_age..=admission.max_age).contains(&age) {
                return refuse(format!(
                    "age {age} is outside the admitted {} to {}",
                    admission.min_age, admission.max_age
                ));
            }
            if !Partners::open_orders_of(pool, &id_number).await?.is_empty() {
                return refuse("the customer has an order in progress".into());
            }
            if settings.reborrow_days > 0 {
                let since = state.bus.services().clock.now()
                    - chrono::Duration::days(settings.reborrow_days.into());
                let refused =
                    Partners::refused_since(pool, &id_number, &crate::rfc3339(since)).await?;
                if let Some(last) = refused.first() {
                    let again = chrono::DateTime::parse_from_rfc3339(&last.updated_at)
                        .map(|at| {
                            let again = at + chrono::Duration::days(settings.reborrow_days.into());
                            domain::schedule::shanghai_date(again.to_utc()).to_string()
                        })
                        .unwrap_or_default();
                    return Ok(
                        json!({ "accept": false, "reason": "refused recently (可借日期)", "borrowableFrom": again }),
                    );
                }
            }
            Ok(json!({ "accept": true, "reason": null }))
        }
        // 002 item 10 (支持银行卡列表).
        "banks" => {
            let settings = settings_of(state, partner)?;
            Ok(json!({ "banks": settings.banks }))
        }
        // 002 item 3 (协议列表).
        "agreements" => {
            let order_no = order_no()?;
            pushed(state, &order_id(partner, order_no)).await?;
            let settings = settings_of(state, partner)?;
            let agreements: Vec<Value> = settings
                .agreements
                .iter()
                .map(|a| json!({ "code": a.code, "name": a.name, "url": a.url.replace("{orderNo}", order_no) }))
                .collect();
            Ok(
                json!({ "productCode": settings.product_code, "productName": settings.product_name, "agreements": agreements }),
            )
        }
        "confirm-borrow" => {
            let id = order_id(partner, order_no()?);
            let request = borrow_request(content)?;
            send(
                state,
                partner,
                &id,
                PartnerOrderCommand::ConfirmBorrow { request },
            )
            .await?;
            Ok(match pushed(state, &id).await?.borrow() {
                Some(_) => json!({ "result": "BORROW_CONFIRMED", "statusCode": 1 }),
                // 002 item 12 2.b: 接口中返回新网开户页地址.
                None => {
                    json!({ "result": "OPEN_ACCOUNT", "accountOpenUrl": settings_of(state, partner)?.account_open_url(order_no()?) })
                }
            })
        }
        "audit-result" => {
            let order = pushed(state, &order_id(partner, order_no()?)).await?;
            let result = order.status().audit_result();
            Ok(json!({ "resultCode": result.code(), "reason": result.reason() }))
        }
        "loan-result" => {
            let (_, _, borrow) = borrowed(state, &order_id(partner, order_no()?)).await?;
            Ok(json!({ "resultCode": LoanResultCode::from(borrow).code() }))
        }
        // 002 item 11 (绑卡, without an SMS code): the first card becomes the
        // default disbursement and repayment card; binding it again makes it
        // the default again with a new bind time; authInfo turns 已绑卡.
        "bind-card" => {
            let id = order_id(partner, order_no()?);
            let bank_code = text(content, "bankCode")?;
            if !settings_of(state, partner)?.supports_bank(bank_code) {
                return Err(ApiError::validation(message!(
                    "bizContent.bankCode {bank_code} is not a supported bank (see the banks operation)"
                )));
            }
            let command = PartnerOrderCommand::BindCard {
                card_no: text(content, "cardNo")?.to_string(),
                bank_code: text(content, "bankCode")?.to_string(),
            };
            send(state, partner, &id, command).await?;
            let order = pushed(state, &id).await?;
            let default = order.cards().iter().find(|c| c.default);
            Ok(json!({
                "authInfo": "BOUND",
                "cards": order.cards().len(),
                "defaultCard": default.map(|c| domain::pii::mask_card(&c.card_no)),
                "boundAt": default.map(|c| domain::log::rfc3339(c.bound_at)),
            }))
        }
        // 002 item 18: the disbursed loan's own plan with each period's state;
        // before disbursement, the plan the confirmed borrow would have.
        "repayment-plan" => {
            let id = order_id(partner, order_no()?);
            if let Some((ledger, _)) = LoanLedger::get(state.database.read_models(), &id)
                .await
                .map_err(ApiError::internal)?
            {
                return Ok(
                    json!({ "valueDate": ledger.value_date, "plan": plan_of(&ledger, crate::shanghai_today(state)) }),
                );
            }
            let (order, request, _) = borrowed(state, &id).await?;
            installments(order.annual_rate().unwrap_or_default(), &request)
        }
        // 002 item 21 (主动还款试算): what is owed today (the current and
        // overdue periods, penalty included) and the full payoff.
        "repay-trial" => {
            let ledger = loan_ledger(state, &order_id(partner, order_no()?)).await?;
            let day = crate::shanghai_today(state);
            let owed = ledger.owed_on(day);
            Ok(json!({
                "day": day,
                "owedToday": { "principal": money(owed.principal), "interest": money(owed.interest),
                               "penalty": money(owed.penalty), "overdue": money(owed.overdue),
                               "total": money(owed.total()) },
                "payoff": money(ledger.payoff_on(day)),
                "outstandingPrincipal": money(ledger.outstanding_principal()),
                "plan": plan_of(&ledger, day),
            }))
        }
        // 002 item 22 (主动还款): the core is asked to debit `amount` from the
        // bound card; idempotent by `repayNo`; the result comes from the core
        // and is called back (item 23) and queried (item 24).
        "repay" => {
            let id = order_id(partner, order_no()?);
            loan_ledger(state, &id).await?;
            let repayment_no = text(content, "repayNo")?.to_string();
            let amount = amount_of(content)?;
            let command = domain::loan_application::LoanCommand::RequestRepayment {
                repayment_no: repayment_no.clone(),
                amount,
            };
            send_to::<domain::loan_application::LoanApplication>(state, partner, &id, command)
                .await?;
            Ok(json!({ "repayNo": repayment_no, "status": "PROCESSING" }))
        }
        // 002 item 24 (还款结果查询).
        "repay-result" => {
            let id = order_id(partner, order_no()?);
            let repayment_no = text(content, "repayNo")?;
            let rows =
                LoanLedger::by_reference(state.database.read_models(), &id, repayment_no).await?;
            if rows.is_empty() {
                return Err(ApiError::not_found(message!(
                    "no repayment {repayment_no} on this order"
                )));
            }
            let fen = |fen: i64| money(Decimal::new(fen, 2));
            let paid: Vec<_> = rows.iter().filter(|r| r.kind == "REPAYMENT").collect();
            let failed = rows.iter().find(|r| r.kind == "AUTO_DEBIT_FAILED");
            let status = match (paid.is_empty(), failed) {
                (false, _) => "SUCCESS",
                (true, Some(_)) => "FAILED",
                (true, None) => "PROCESSING",
            };
            Ok(json!({
                "repayNo": repayment_no,
                "status": status,
                "amount": fen(rows[0].amount_fen),
                "paid": {
                    "principal": fen(paid.iter().map(|r| r.principal_fen).sum()),
                    "interest": fen(paid.iter().map(|r| r.interest_fen).sum()),
                    "penalty": fen(paid.iter().map(|r| r.penalty_fen).sum()),
                },
                "day": paid.first().map(|r| r.day.clone()).or_else(|| failed.map(|r| r.day.clone())),
                "reason": failed.and_then(|r| r.detail.clone()),
            }))
        }
        // 002 item 2 (借款试算): what a borrow of `amount` over `termMonths`
        // would cost at the order's approved rate, within its approved limit.
        "loan-trial" => {
            let order = pushed(state, &order_id(partner, order_no()?)).await?;
            let (Some(rate), Some(limit)) = (order.annual_rate(), order.limit()) else {
                return Err(ApiError::new(
                    domain::ErrorCode::InvalidTransition,
                    message!("the order has no approved credit yet (授信未通过)"),
                ));
            };
            let request = borrow_request(content)?;
            if request.amount > limit {
                return Err(ApiError::validation(message!(
                    "bizContent.amount {amount} is above the approved limit {limit}",
                    amount = request.amount
                )));
            }
            installments(rate, &request)
        }
        other => Err(ApiError::not_found(message!(
            "no partner operation {other}"
        ))),
    }
}

/// `bizContent.amount`.
fn amount_of(content: &Value) -> Result<Decimal, ApiError> {
    text(content, "amount")?
        .parse()
        .map_err(|_| ApiError::validation(message!("bizContent.amount must be a decimal amount")))
}

/// The amount and term of a borrow (`bizContent.amount`, `termMonths`).
fn borrow_request(content: &Value) -> Result<BorrowRequest, ApiError> {
    let amount = amount_of(content)?;
    let term_months = content["termMonths"]
        .as_u64()
        .and_then(|t| u32::try_from(t).ok())
        .ok_or_else(|| {
            ApiError::validation(message!("bizContent.termMonths must be a whole number"))
        })?;
    Ok(BorrowRequest {
        amount,
        term_months,
    })
}

/// The 等额本息 schedule of `request` at `rate`, with its totals.
fn installments(rate: Decimal, request: &BorrowRequest) -> Result<Value, ApiError> {
    let plan = domain::repayment::equal_installments(request.amount, rate, request.term_months)
        .map_err(|e| ApiError::validation(domain::message::Localized::message(&e)))?;
    let interest: Decimal = plan.iter().map(|i| i.interest).sum();
    Ok(json!({
        "annualRate": rate.to_string(),
        "amount": request.amount.to_string(),
        "termMonths": request.term_months,
        "totalInterest": interest.to_string(),
        "totalRepayment": (request.amount + interest).to_string(),
        "installments": plan.iter().map(|i| json!({
            "period": i.period, "amount": i.amount.to_string(), "principal": i.principal.to_string(),
            "interest": i.interest.to_string(), "balanceAfter": i.balance_after.to_string() })).collect::<Vec<_>>(),
    }))
}

/// The order `id`, NOT_FOUND unless the partner pushed it.
async fn pushed(state: &AppState, id: &str) -> Result<PartnerOrder, ApiError> {
    let (order, _) = state
        .bus
        .load::<PartnerOrder>(id)
        .await
        .map_err(ApiError::internal)?;
    if order.details().is_none() {
        return Err(ApiError::not_found(message!("no order {id}")));
    }
    Ok(order)
}

/// The order `id` and its borrow order, NOT_FOUND while there is none.
async fn borrowed(
    state: &AppState,
    id: &str,
) -> Result<
    (
        PartnerOrder,
        BorrowRequest,
        domain::partner_order::BorrowStatus,
    ),
    ApiError,
> {
    let order = pushed(state, id).await?;
    let (request, status) = order
        .borrow()
        .cloned()
        .ok_or_else(|| ApiError::not_found(message!("no borrow order for {id}")))?;
    Ok((order, request, status))
}

async fn status_of(state: &AppState, id: &str) -> Result<Value, ApiError> {
    let order = pushed(state, id).await?;
    Ok(
        json!({ "orderId": id, "status": domain::wire_name(&order.status()), "statusCode": order.status().code() }),
    )
}

/// Counts a refusal before the partner was verified (never stored as sent)
/// and answers it.
fn refuse_unverified(
    state: &AppState,
    door: &str,
    claimed: &str,
    peer: SocketAddr,
    error: ApiError,
) -> Response {
    let code = error.code.as_str();
    let english = error.message.to_string();
    record::unverified(state, door, claimed, code, &english, Some(peer.ip()));
    rest_refusal(&error)
}

/// Middleware before the gateway's body is parsed: the address's rate (a
/// flood of forgeries costs no parsing, verification or storage) and an
/// operation the gateway has; a refused body is only read and thrown away.
pub async fn door(
    State((state, _)): State<(AppState, crate::FacesignSchema)>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let limit = state.config.body_limit_bytes;
    let language = Language::of(request.headers());
    if !crate::doors::within_address_rate(&state.doors.partner_by_address, peer.ip()) {
        return crate::limits::drained_too_many(request, limit, language).await;
    }
    let operation = request.uri().path().rsplit('/').next().unwrap_or_default();
    if !OPERATIONS.contains(&operation) {
        let error = ApiError::not_found(message!("no such partner operation"));
        let answer = refuse_unverified(&state, "partner/unknown", "", peer, error);
        return crate::limits::after_draining(request, limit, answer).await;
    }
    next.run(request).await
}

/// POST /partner/v1/{operation}, past [`door`].
pub async fn partner_request(
    State((state, _)): State<(AppState, crate::FacesignSchema)>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(operation): Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let request_id = state.bus.services().ids.new_id().to_string();
    let door = format!("partner/{operation}");
    let language = Language::of(&headers);
    // Refused before the partner was verified: counted, never stored as sent.
    let unverified =
        |claimed: &str, error: ApiError| refuse_unverified(&state, &door, claimed, peer, error);
    let envelope = match SignedRequest::parse(&body) {
        Ok(envelope) => envelope,
        Err(reason) => {
            let error = ApiError::new(
                domain::error::DomainError::code(&reason),
                match reason {
                    EnvelopeError::Unsigned => domain::message::Localized::message(&reason),
                    // The parser's complaint quotes the body: ours instead.
                    EnvelopeError::Malformed(_) => {
                        message!("the body must be a JSON object of partner, timestamp, nonce, bizContent and sign")
                    }
                },
            );
            return unverified("", error);
        }
    };
    let path = format!("/partner/v1/{operation}");
    let partner = match authenticate(&state, &envelope, &path).await {
        Ok(partner) => partner,
        Err(NotThrough::Unverified { claimed, error }) => return unverified(&claimed, error),
        // Counted in metrics, not logged one by one, like every rate refusal.
        Err(NotThrough::RateLimited) => return crate::limits::too_many_requests(language),
    };
    // 操作留痕 of a verified partner's refusals, one by one.
    let refused = |target: String, error: ApiError| {
        let who = (
            partner.clone(),
            Role::Partner.as_str().to_string(),
            request_id.clone(),
        );
        record::refusal_by(
            &state,
            who,
            &door,
            target,
            error.code.as_str(),
            &error.message.to_string(),
        );
        rest_refusal(&error)
    };
    let content = match envelope.business() {
        Ok(content) => content,
        // The parser's complaint quotes the content: ours instead.
        Err(_) => {
            return refused(
                String::new(),
                ApiError::validation(message!("bizContent is not a JSON document")),
            )
        }
    };
    if let Err(control) = crate::text_input::check_json("bizContent", &content) {
        return refused(String::new(), ApiError::validation(control.0));
    }
    match handle(&state, &operation, &partner, &content).await {
        Ok(data) => ok(data),
        Err(e) => {
            let target = content["orderNo"]
                .as_str()
                .map(|order| format!("orderNo={}", order.chars().take(64).collect::<String>()))
                .unwrap_or_default();
            refused(target, e)
        }
    }
}
