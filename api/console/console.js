// facesign console: one page over the GraphQL API at /graphql, with the token
// the user logs in with. No build step and no framework; the DOM is built with
// `h()` (text nodes only, never innerHTML), so data from the read models cannot
// become markup. Times are shown in Asia/Shanghai (UTC+8 all year), as the bank
// works, whatever the browser's own time zone.

const SHANGHAI_MS = 8 * 3600 * 1000;
const TOKEN_KEY = "facesign.console.token";
const LANG_KEY = "facesign.console.lang";

// ---------------------------------------------------------------- words

// Chinese is the default (001, 004); task statuses and reject reasons come
// from the server in the domain's own wording (/console/labels.json).
const WORDS = {
  zh: {
    "nav.board": "任务看板", "nav.calendar": "坐席日历", "nav.qc": "质检队列", "nav.incidents": "异常回调",
    "nav.admin": "系统管理", "nav.audit": "审计", "nav.dashboard": "统计看板", "nav.lineage": "合同链路",
    logout: "退出", login: "登录", "login.title": "登录 facesign 控制台",
    "login.help": "粘贴您的访问令牌（Bearer token）。开发环境可用 `facesign token --role SEAT --sub S1` 生成。",
    "login.token": "访问令牌", "login.expired": "令牌已过期或无效，请重新登录。",
    loading: "正在加载…", none: "暂无数据", save: "保存", submit: "提交", search: "查询", reset: "重置",
    refresh: "刷新", more: "加载更多", next: "下一页", first: "第一页", cancel: "撤销", back: "返回",
    enable: "启用", disable: "停用", remove: "删除", create: "新建", retry: "重试", kick: "踢下线",
    yes: "是", no: "否", live: "实时更新中", offline: "实时连接断开，正在重连…", done: "操作成功",
    "board.title": "面谈任务看板", "board.new": "新建面谈任务",
    "f.status": "状态", "f.all": "全部", "f.contractNo": "合同号", "f.seatNo": "坐席号", "f.productCode": "产品代码",
    "f.channelCode": "渠道代码", "f.borrower": "借款人", "f.appointment": "预约时间", "f.updatedAt": "更新时间",
    "f.createdAt": "创建时间", "f.kind": "任务类型", "f.managerId": "客户经理", "f.seat": "坐席",
    "f.reschedules": "改约次数", "f.booking": "预约状态", "f.cancelReason": "撤销原因", "f.name": "姓名",
    "f.idType": "证件类型", "f.idNumber": "证件号码", "f.phone": "手机号", "f.roles": "干系人角色",
    "f.mainBorrower": "主借款人", "f.version": "版本", "f.code": "编码", "f.enabled": "启用",
    "f.orgName": "机构名称", "f.orgCode": "机构代码", "f.localities": "准入地区（逗号分隔）",
    "f.content": "话术内容", "f.default": "默认", "f.productName": "产品名称", "f.channelName": "渠道名称",
    "f.businessKind": "业务类型", "f.title": "标题", "f.category": "分类", "f.url": "地址", "f.autoplay": "自动播放",
    "f.noSkip": "禁止跳过", "f.login": "登录名", "f.email": "邮箱", "f.role": "角色", "f.validFrom": "生效时间",
    "f.target": "回调对象", "f.callbackKind": "回调类型", "f.subject": "业务单号", "f.attempts": "尝试次数", "f.lastError": "最近错误",
    "f.nextAt": "下次尝试", "f.origin": "来源", "f.reviewer": "审核人", "f.openedAt": "进入队列",
    "f.decidedAt": "审核时间", "f.result": "审核结果", "f.reasons": "拒件原因", "f.comment": "审核意见",
    "f.otherText": "其他原因说明", "f.at": "时间", "f.event": "事件", "f.actor": "操作人", "f.position": "日志位置",
    "f.aggregate": "聚合", "f.type": "聚合类型", "f.id": "聚合编号", "f.sequence": "序号",
    "f.from": "起", "f.to": "止", "f.appointment.from": "预约日期从", "f.appointment.to": "预约日期至", "f.week": "周", "f.round": "轮次", "f.transition": "产生方式", "f.reason": "原因",
    "task.title": "面谈任务", "task.facts": "基本信息", "task.participants": "干系人", "task.steps": "面谈步骤",
    "task.snapshots": "抓拍照片", "task.documents": "推送文档", "task.remarks": "备注", "task.chat": "聊天记录",
    "task.calls": "通话记录", "task.conclusion": "面谈结论", "task.timeline": "事件时间线", "task.actions": "操作",
    "task.book": "预约面谈", "task.reschedule": "改约", "task.slots": "可预约时段（未来 7 天）", "task.noSlots": "没有可预约的时段",
    "task.release": "放回", "task.releaseReason": "放回原因", "task.heldBy": "由坐席 {seat} 处理中",
    "task.start": "开始面谈", "task.endCall": "结束通话", "task.conclude": "提交面谈结论", "task.pass": "通过",
    "task.doubtful": "存疑", "task.cancelTask": "撤销任务", "task.cancelReasonPrompt": "撤销原因",
    "task.addRemark": "添加备注", "task.remarkText": "备注内容", "task.signed": "已签署", "task.unsigned": "待签署",
    "task.lineage": "查看合同链路", "task.similarity": "相似度", "task.liveness": "活体", "task.audit": "查看审计轨迹", "task.loanInfo": "贷款信息", "task.identity": "客户核身",
    "new.title": "新建面谈任务", "new.participant": "干系人", "new.addParticipant": "添加干系人",
    "lineage.title": "合同任务链路", "lineage.help": "同一合同的面谈任务按轮次排列；箭头上是取代的方式与原因。",
    "calendar.title": "坐席日历", "calendar.prev": "上一周", "calendar.next": "下一周", "calendar.working": "工作时间",
    "calendar.booked": "已预约", "seat.signIn": "签入", "seat.signOut": "签出", "seat.signedIn": "已签入", "seat.signedOut": "未签入", "seat.setTo": "置为",
    "qc.title": "质检队列", "qc.claim": "领取", "qc.release": "释放", "qc.decide": "提交审核", "qc.verdict": "审核结论",
    "qc.pass": "通过", "qc.reject": "拒绝", "qc.mine": "我领取的案件",
    "incidents.title": "异常回调（失败的回调）", "incidents.help": "回调多次失败后成为异常；修复对方系统后可重试。",
    "admin.title": "系统管理", "admin.channels": "渠道", "admin.scripts": "话术", "admin.media": "营销视频", "admin.accounts": "账号",
    "admin.makeDefault": "设为默认",
    "f.onBehalfOf": "代", "audit.title": "审计",
    "oplog.title": "操作留痕", "oplog.kind": "类别", "oplog.REFUSED": "被拒绝的操作", "oplog.PERSONAL_DATA_READ": "查看个人信息",
    "oplog.operation": "操作", "oplog.target": "对象", "oplog.code": "错误码", "oplog.detail": "说明", "audit.feed": "全局事件流", "audit.trail": "聚合轨迹", "audit.asOf": "某一时刻的状态",
    "audit.at": "时刻（北京时间）", "audit.actor": "操作人轨迹", "audit.feedAfter": "从日志位置之后", "audit.show": "查看", "audit.payload": "事件内容", "audit.state": "当时状态",
    "dashboard.title": "统计看板", "dashboard.outcomes": "每日面谈结论", "dashboard.calls": "每日通话量",
    "dashboard.durations": "平均排队与通话时长（秒）", "dashboard.created": "新建任务",
    "s.passed": "通过", "s.doubtful": "存疑", "s.rejected": "拒绝", "s.calls": "通话", "s.queue": "平均排队",
    "s.talk": "平均通话", "s.created": "新建任务",
  },
  en: {
    "nav.board": "Task board", "nav.calendar": "Seat calendar", "nav.qc": "QC queue", "nav.incidents": "Incidents",
    "nav.admin": "Admin", "nav.audit": "Audit", "nav.dashboard": "Dashboard", "nav.lineage": "Lineage",
    logout: "Log out", login: "Log in", "login.title": "Log in to the facesign console",
    "login.help": "Paste your bearer token. In development, `facesign token --role SEAT --sub S1` mints one.",
    "login.token": "Bearer token", "login.expired": "The token is invalid or expired; log in again.",
    loading: "Loading…", none: "Nothing yet", save: "Save", submit: "Submit", search: "Search", reset: "Reset",
    refresh: "Refresh", more: "Load more", next: "Next page", first: "First page", cancel: "Cancel", back: "Back",
    enable: "Enable", disable: "Disable", remove: "Delete", create: "Create", retry: "Retry", kick: "Kick out",
    yes: "yes", no: "no", live: "Live", offline: "Live updates lost; reconnecting…", done: "Done",
    "board.title": "Interview task board", "board.new": "New interview task",
    "f.status": "Status", "f.all": "All", "f.contractNo": "Contract no", "f.seatNo": "Seat no", "f.productCode": "Product",
    "f.channelCode": "Channel", "f.borrower": "Borrower", "f.appointment": "Appointment", "f.updatedAt": "Updated",
    "f.createdAt": "Created", "f.kind": "Kind", "f.managerId": "Account manager", "f.seat": "Seat",
    "f.reschedules": "Reschedules", "f.booking": "Booking", "f.cancelReason": "Cancel reason", "f.name": "Name",
    "f.idType": "ID type", "f.idNumber": "ID number", "f.phone": "Phone", "f.roles": "Roles",
    "f.mainBorrower": "Main borrower", "f.version": "Version", "f.code": "Code", "f.enabled": "Enabled",
    "f.orgName": "Organisation", "f.orgCode": "Org code", "f.localities": "Localities (comma separated)",
    "f.content": "Script", "f.default": "Default", "f.productName": "Product name", "f.channelName": "Channel name",
    "f.businessKind": "Business kind", "f.title": "Title", "f.category": "Category", "f.url": "URL", "f.autoplay": "Autoplay",
    "f.noSkip": "No skipping", "f.login": "Login", "f.email": "Email", "f.role": "Role", "f.validFrom": "Valid from",
    "f.target": "Target", "f.callbackKind": "Callback", "f.subject": "Subject", "f.attempts": "Attempts", "f.lastError": "Last error",
    "f.nextAt": "Next attempt", "f.origin": "Origin", "f.reviewer": "Reviewer", "f.openedAt": "Queued",
    "f.decidedAt": "Decided", "f.result": "Result", "f.reasons": "Reasons", "f.comment": "Comment",
    "f.otherText": "Other reason", "f.at": "At", "f.event": "Event", "f.actor": "Actor", "f.position": "Position",
    "f.aggregate": "Aggregate", "f.type": "Aggregate type", "f.id": "Aggregate id", "f.sequence": "Sequence",
    "f.from": "From", "f.to": "To", "f.appointment.from": "Appointments from", "f.appointment.to": "Appointments to", "f.week": "Week", "f.round": "Round", "f.transition": "Created by", "f.reason": "Reason",
    "task.title": "Interview task", "task.facts": "Facts", "task.participants": "Participants", "task.steps": "Steps",
    "task.snapshots": "Snapshots", "task.documents": "Documents", "task.remarks": "Remarks", "task.chat": "Chat",
    "task.calls": "Calls", "task.conclusion": "Conclusion", "task.timeline": "Timeline", "task.actions": "Actions",
    "task.book": "Book an appointment", "task.reschedule": "Reschedule", "task.slots": "Free slots (next 7 days)", "task.noSlots": "No free slot",
    "task.release": "Put back", "task.releaseReason": "Why put back", "task.heldBy": "Held by seat {seat}",
    "task.start": "Start interview", "task.endCall": "End call", "task.conclude": "Conclude", "task.pass": "Pass",
    "task.doubtful": "Doubtful", "task.cancelTask": "Cancel task", "task.cancelReasonPrompt": "Reason",
    "task.addRemark": "Add remark", "task.remarkText": "Remark", "task.signed": "signed", "task.unsigned": "awaiting signature",
    "task.lineage": "Contract lineage", "task.similarity": "similarity", "task.liveness": "liveness", "task.audit": "Audit trail", "task.loanInfo": "Loan information", "task.identity": "Identity checks",
    "new.title": "New interview task", "new.participant": "Participant", "new.addParticipant": "Add participant",
    "lineage.title": "Contract lineage", "lineage.help": "A contract's interview tasks by round; arrows carry how and why one replaced the other.",
    "calendar.title": "Seat calendar", "calendar.prev": "Previous week", "calendar.next": "Next week", "calendar.working": "Working hours",
    "calendar.booked": "Booked", "seat.signIn": "Sign in", "seat.signOut": "Sign out", "seat.signedIn": "Signed in", "seat.signedOut": "Signed out", "seat.setTo": "Set ",
    "qc.title": "QC queue", "qc.claim": "Claim", "qc.release": "Release", "qc.decide": "Decide", "qc.verdict": "Verdict",
    "qc.pass": "Pass", "qc.reject": "Reject", "qc.mine": "Claimed by me",
    "incidents.title": "Incidents (failed callbacks)", "incidents.help": "A callback that kept failing becomes an incident; retry once the partner is fixed.",
    "admin.title": "Administration", "admin.channels": "Channels", "admin.scripts": "Scripts", "admin.media": "Media", "admin.accounts": "Accounts",
    "admin.makeDefault": "Make default",
    "f.onBehalfOf": "for", "audit.title": "Audit",
    "oplog.title": "Operation log", "oplog.kind": "Kind", "oplog.REFUSED": "Refused", "oplog.PERSONAL_DATA_READ": "Personal data read",
    "oplog.operation": "Operation", "oplog.target": "Target", "oplog.code": "Code", "oplog.detail": "Detail", "audit.feed": "Global event feed", "audit.trail": "Aggregate trail", "audit.asOf": "State as of a moment",
    "audit.at": "Moment (Beijing time)", "audit.actor": "What one actor did", "audit.feedAfter": "After log position", "audit.show": "Show", "audit.payload": "Payload", "audit.state": "State then",
    "dashboard.title": "Dashboard", "dashboard.outcomes": "Interview outcomes per day", "dashboard.calls": "Calls per day",
    "dashboard.durations": "Average queue and talk time (s)", "dashboard.created": "Tasks created",
    "s.passed": "Passed", "s.doubtful": "Doubtful", "s.rejected": "Rejected", "s.calls": "Calls", "s.queue": "Avg queue",
    "s.talk": "Avg talk", "s.created": "Created",
  },
};

// Enum values in both languages; task statuses and reject reasons are not here
// (the server sends the 001/004 wording).
const ENUMS = {
  zh: {
    TaskKind: { YONGXU_VIDEO_INTERVIEW: "永续贷视频面谈", YUNDAI_DIRECT: "云贷直营", YUNDAI_INDIRECT: "云贷间营", YUNCE: "云测" },
    ParticipantRole: { BORROWER: "借款人", CO_BORROWER: "共同借款人", CO_OWNER: "共有人", SPOUSE: "配偶", GUARANTOR: "担保人" },
    TaskStep: { FIELD_INVESTIGATION: "现调", IDENTITY_CHECK: "客户核身", VIDEO_WITNESS: "视频见证", INFO_ENTRY: "信息录入" },
    QcOrigin: { DOUBTFUL: "存疑", SAMPLED_PASS: "抽样检查" },
    QcStatus: { OPEN: "待领取", CLAIMED: "审核中", DECIDED: "已审核" },
    CallbackStatus: { PENDING: "待发送", DELIVERED: "已送达", FAILED: "失败" },
    Outcome: { PASS: "通过", DOUBTFUL: "存疑" },
    Role: { CUSTOMER: "客户", ACCOUNT_MANAGER: "客户经理", SEAT: "视频坐席", QC_REVIEWER: "质检员", SUPERVISOR: "主管",
      ADMIN: "管理员", AUDITOR: "审计员", PARTNER: "合作平台", CREDIT_SYSTEM: "信贷系统",
      VERIFICATION_SERVICE: "核身服务", SYSTEM: "系统" },
    MediaCategory: { PRODUCT_INTRO: "产品介绍", MARKETING: "营销", RISK_NOTICE: "风险提示" },
    AccountStatus: { ACTIVE: "启用", DISABLED: "禁用", DELETED: "已删除" },
    Presence: { IDLE: "空闲", PAUSED: "暂放", BUSY: "忙碌", AFTER_CALL: "话后处理" },
    SnapshotCategory: { FACE: "人脸照片", ID_CARD: "身份证照片", HOLDING_ID_CARD: "手持身份证照片", HOLDING_PROPERTY_CERTIFICATE: "手持房产证照片",
      RISK_POINT: "风控疑点", FIELD_PHOTO: "现场照片", OTHER: "其他" },
    Weekday: ["一", "二", "三", "四", "五", "六", "日"],
  },
  en: {
    TaskStatusEn: { PENDING: "Pending", IN_PROGRESS: "In progress", PENDING_QC: "Doubtful (awaiting QC)", PASSED: "Passed",
      REJECTED: "Rejected", EXPIRED: "Expired", CANCELLED: "Cancelled", SUPERSEDED: "Superseded" },
    TaskKind: { YONGXU_VIDEO_INTERVIEW: "Yongxu video interview", YUNDAI_DIRECT: "Yundai direct", YUNDAI_INDIRECT: "Yundai indirect", YUNCE: "Yunce" },
    ParticipantRole: { BORROWER: "Borrower", CO_BORROWER: "Co-borrower", CO_OWNER: "Co-owner", SPOUSE: "Spouse", GUARANTOR: "Guarantor" },
    TaskStep: { FIELD_INVESTIGATION: "Field investigation", IDENTITY_CHECK: "Identity check", VIDEO_WITNESS: "Video witness", INFO_ENTRY: "Info entry" },
    QcOrigin: { DOUBTFUL: "Doubtful", SAMPLED_PASS: "Sampled pass" },
    QcStatus: { OPEN: "Open", CLAIMED: "Claimed", DECIDED: "Decided" },
    CallbackStatus: { PENDING: "Pending", DELIVERED: "Delivered", FAILED: "Failed" },
    Outcome: { PASS: "Pass", DOUBTFUL: "Doubtful" },
    Role: { CUSTOMER: "Customer", ACCOUNT_MANAGER: "Account manager", SEAT: "Seat", QC_REVIEWER: "QC reviewer",
      SUPERVISOR: "Supervisor", ADMIN: "Admin", AUDITOR: "Auditor", PARTNER: "Partner", CREDIT_SYSTEM: "Credit system",
      VERIFICATION_SERVICE: "Verification service", SYSTEM: "System" },
    MediaCategory: { PRODUCT_INTRO: "Product intro", MARKETING: "Marketing", RISK_NOTICE: "Risk notice" },
    AccountStatus: { ACTIVE: "Active", DISABLED: "Disabled", DELETED: "Deleted" },
    Presence: { IDLE: "Idle", PAUSED: "Paused", BUSY: "Busy", AFTER_CALL: "After call" },
    SnapshotCategory: { FACE: "Face", ID_CARD: "ID card", HOLDING_ID_CARD: "Holding ID card", HOLDING_PROPERTY_CERTIFICATE: "Holding property certificate",
      RISK_POINT: "Risk point", FIELD_PHOTO: "Field photo", OTHER: "Other" },
    Weekday: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    RejectReason: {
      NO_LOAN_INTENT: "No wish to borrow, or will not cooperate with verification",
      FORGED_DOCUMENTS: "Forged certificates, seals or signatures",
      NO_STABLE_INCOME: "No stable household income",
      GAMBLING_OR_DRUGS: "Gambling, drugs or similar vices",
      DEMOLITION_RISK: "Property at risk of demolition",
      ILLEGAL_PRIVATE_FINANCING: "Suspected illegal private financing",
      PROPERTY_NATURE_MISMATCH: "Property or land does not meet the bank's rules",
      CUSTOMER_WITHDREW: "Customer withdrew",
      OTHER: "Other",
    },
  },
};

const session = {
  token: sessionStorage.getItem(TOKEN_KEY),
  lang: localStorage.getItem(LANG_KEY) || "zh",
  claims: null,
  labels: null,
  notice: "",
};

function t(key) {
  return WORDS[session.lang][key] ?? WORDS.zh[key] ?? key;
}

function enumLabel(kind, value) {
  if (value == null) return "";
  return ENUMS[session.lang][kind]?.[value] ?? ENUMS.zh[kind]?.[value] ?? value;
}

function statusLabel(status) {
  if (session.lang === "en") return ENUMS.en.TaskStatusEn[status] ?? status;
  return session.labels?.taskStatus?.[status] ?? status;
}

function reasonLabel(code) {
  if (session.lang === "en") return ENUMS.en.RejectReason[code] ?? code;
  return session.labels?.rejectReasons?.find((r) => r.code === code)?.zh ?? code;
}

// ---------------------------------------------------------------- DOM

const SVG_TAGS = ["svg", "g", "rect", "line", "path", "text", "polyline", "circle", "title", "marker", "defs", "polygon"];

// An element with attributes and children; `svg:a` for a link inside SVG.
function h(tag, attrs = {}, ...children) {
  const svg = SVG_TAGS.includes(tag) || tag.startsWith("svg:");
  const el = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag.replace(/^svg:/, "")) : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value == null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "style") Object.assign(el.style, value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const $ = (selector, root = document) => root.querySelector(selector);

function tableHead(headers) {
  return h("thead", {}, h("tr", {}, headers.map((x) => h("th", {}, x))));
}

function table(headers, rows, empty = t("none")) {
  if (!rows.length) return h("p", { class: "muted" }, empty);
  return h("table", {}, tableHead(headers), h("tbody", {}, rows));
}

function badge(code, text) {
  return h("span", { class: `badge ${code}`, "data-status": code }, text);
}

function field(label, input) {
  return h("label", { class: "field" }, label, input);
}

function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.filter(([, v]) => v != null && v !== "").map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

function panel(title, ...content) {
  return h("section", { class: "panel" }, title ? h("h2", {}, title) : null, content);
}

function banner(message, kind = "error") {
  const el = $("#banner");
  el.className = kind === "error" ? "" : "info";
  el.textContent = message;
  el.hidden = !message;
}

// ---------------------------------------------------------------- time (Asia/Shanghai)

function shanghaiParts(iso) {
  const d = new Date(Date.parse(iso) + SHANGHAI_MS);
  return { y: d.getUTCFullYear(), m: d.getUTCMonth() + 1, d: d.getUTCDate(), hh: d.getUTCHours(), mm: d.getUTCMinutes(), dow: (d.getUTCDay() + 6) % 7 };
}

function fmt(iso) {
  if (!iso) return "";
  return new Date(Date.parse(iso) + SHANGHAI_MS).toISOString().slice(0, 16).replace("T", " ");
}

function fmtTime(iso) {
  return fmt(iso).slice(11);
}

// A Beijing wall-clock date (YYYY-MM-DD) plus `hours`, as a UTC ISO string.
function shanghaiDayToIso(day, hours = 0) {
  return new Date(Date.parse(`${day}T00:00:00Z`) - SHANGHAI_MS + hours * 3600 * 1000).toISOString();
}

function todayShanghai() {
  return new Date(Date.now() + SHANGHAI_MS).toISOString().slice(0, 10);
}

function addDays(day, n) {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86400 * 1000).toISOString().slice(0, 10);
}

// ---------------------------------------------------------------- GraphQL

class ApiError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

// A fresh Idempotency-Key (crypto.randomUUID needs a secure context; the
// random bytes do not).
function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// Sends one request; a mutation carries an Idempotency-Key and is retried with
// the same key when its answer is lost (network failure, TIMEOUT), so a retry
// never runs a command twice.
async function send(query, variables) {
  const mutation = query.trimStart().startsWith("mutation");
  const headers = { "content-type": "application/json", authorization: `Bearer ${session.token}` };
  if (mutation) headers["idempotency-key"] = newKey();
  const body = JSON.stringify({ query, variables });
  for (let attempt = 1; ; attempt += 1) {
    try {
      const response = await fetch("/graphql", { method: "POST", headers, body });
      if (!mutation || attempt >= 3 || (response.status !== 503 && response.status !== 409)) return response;
    } catch (error) {
      if (!mutation || attempt >= 3) throw new ApiError(String(error.message ?? error), "NETWORK");
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function gql(query, variables = {}) {
  const response = await send(query, variables);
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`HTTP ${response.status}`, `HTTP_${response.status}`);
  }
  if (body.errors?.length) {
    const error = body.errors[0];
    const code = error.extensions?.code ?? "ERROR";
    if (code === "UNAUTHENTICATED") {
      logout(t("login.expired"));
    }
    throw new ApiError(error.message, code);
  }
  return body.data;
}

// Runs a mutation from a button or form: disables it while running, shows the
// API's error (message and code) and leaves the page as it was on failure.
async function act(button, work, then = render) {
  if (button) button.disabled = true;
  try {
    await work();
    banner(t("done"), "info");
    await then();
  } catch (error) {
    banner(`${error.message} [${error.code ?? "ERROR"}]`);
  } finally {
    if (button) button.disabled = false;
  }
}

// A button that runs one command through `act`, or nothing when the role may
// not run it. `variables` may be a function, read when the button is clicked.
function commandButton(operation, label, query, variables, attrs = {}) {
  if (!may(`Mutation.${operation}`)) return null;
  const button = h("button", { type: "button", "data-op": operation, ...attrs }, label);
  button.addEventListener("click", () =>
    act(button, () => gql(query, typeof variables === "function" ? variables() : variables)));
  return button;
}

// A `graphql-transport-ws` subscription that reconnects until disposed.
function subscribe(query, variables, onData, onLive) {
  let socket;
  let disposed = false;
  const open = () => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/graphql/ws`, "graphql-transport-ws");
    socket.onopen = () => socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${session.token}` } }));
    socket.onmessage = (message) => {
      const msg = JSON.parse(message.data);
      if (msg.type === "connection_ack") {
        socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query, variables } }));
        onLive(true);
      } else if (msg.type === "next" && msg.payload?.data) {
        onData(msg.payload.data);
      } else if (msg.type === "ping") {
        socket.send(JSON.stringify({ type: "pong" }));
      } else if (msg.type === "error" || msg.payload?.errors) {
        const error = (msg.payload?.errors ?? msg.payload ?? [])[0];
        banner(`${error?.message ?? "subscription error"} [${error?.extensions?.code ?? "ERROR"}]`);
      }
    };
    socket.onclose = () => {
      onLive(false);
      if (!disposed) setTimeout(open, 2000);
    };
  };
  open();
  return () => {
    disposed = true;
    socket?.close();
  };
}

// ---------------------------------------------------------------- session

function decodeClaims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = decodeURIComponent(atob(part).split("").map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`).join(""));
    return JSON.parse(json);
  } catch {
    return null;
  }
}

function may(operation) {
  const roles = session.labels?.rules?.[operation];
  return Boolean(roles && session.claims && roles.includes(session.claims.role));
}

function logout(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  session.token = null;
  session.claims = null;
  session.notice = message ?? "";
  if (location.hash === "#/login") render();
  else location.hash = "#/login";
}

// ---------------------------------------------------------------- routing

const PAGES = [
  { path: "board", op: "Query.tasks", render: boardPage },
  { path: "calendar", op: "Query.seatCalendar", render: calendarPage },
  { path: "qc", op: "Query.qcCases", render: qcPage },
  { path: "lineage", op: "Query.taskLineage", render: lineagePage },
  { path: "incidents", op: "Query.callbacks", render: incidentsPage },
  { path: "admin", op: "Query.channels", render: adminPage },
  { path: "audit", op: "Query.events", render: auditPage },
  { path: "dashboard", op: "Query.statistics", render: dashboardPage },
];
const HIDDEN_PAGES = [
  { path: "task", op: "Query.taskDetail", render: taskPage },
  { path: "new", op: "Mutation.createInterviewTask", render: newTaskPage },
];

let disposers = [];
let renders = 0;

function route() {
  const [path, query = ""] = location.hash.replace(/^#\/?/, "").split("?");
  const [name, ...rest] = path.split("/");
  return { name: name || "", arg: rest.map(decodeURIComponent).join("/"), params: new URLSearchParams(query) };
}

function go(name, arg = "", params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v != null && v !== "")).toString();
  const hash = `#/${name}${arg ? `/${encodeURIComponent(arg)}` : ""}${query ? `?${query}` : ""}`;
  // The same address again (a search repeated) still reloads the page's data.
  if (location.hash === hash) render();
  else location.hash = hash;
}

function chrome(current) {
  $("#lang").textContent = session.lang === "zh" ? "EN" : "中文";
  document.documentElement.lang = session.lang === "zh" ? "zh-CN" : "en";
  $("#logout").textContent = t("logout");
  $("#logout").hidden = !session.token;
  $("#who").textContent = session.claims ? `${session.claims.sub} · ${enumLabel("Role", session.claims.role)}` : "";
  const nav = $("#nav");
  nav.replaceChildren(
    ...(session.claims ? PAGES.filter((p) => may(p.op)) : []).map((p) =>
      h("a", { href: `#/${p.path}`, class: p.path === current ? "active" : null, "data-page": p.path }, t(`nav.${p.path}`)),
    ),
  );
}

async function render() {
  for (const dispose of disposers) dispose();
  disposers = [];
  const { name, arg, params } = route();
  const hash = location.hash;
  if (!session.token || !session.claims || session.claims.exp * 1000 < Date.now()) {
    if (session.token) return logout(t("login.expired"));
    chrome("login");
    return loginPage(params);
  }
  const pages = [...PAGES, ...HIDDEN_PAGES];
  const page = pages.find((p) => p.path === name) ?? PAGES.find((p) => may(p.op));
  chrome(page?.path);
  const main = $("#page");
  if (!page) {
    main.replaceChildren(h("p", {}, `${enumLabel("Role", session.claims.role)}: ${t("none")}`));
    return;
  }
  main.replaceChildren(h("p", { class: "muted" }, t("loading")));
  try {
    const content = await page.render(arg, params);
    if (location.hash !== hash) return;
    main.replaceChildren(...[content].flat());
    // Browser tests wait for this: the page for this address is on screen.
    document.body.dataset.rendered = `${hash}#${++renders}`;
  } catch (error) {
    main.replaceChildren(h("p", { class: "muted" }, "—"));
    banner(`${error.message} [${error.code ?? "ERROR"}]`);
    document.body.dataset.rendered = `${hash}#${++renders}`;
  }
}

// ---------------------------------------------------------------- login

function loginPage() {
  const input = h("textarea", { id: "token", rows: 5, spellcheck: "false", autocomplete: "off" });
  const form = h(
    "form",
    {
      id: "login",
      onsubmit: (event) => {
        event.preventDefault();
        const token = input.value.trim().replace(/^Bearer\s+/i, "");
        const claims = decodeClaims(token);
        if (!claims?.sub || !claims?.role) {
          banner(`${t("login.expired")} [UNAUTHENTICATED]`);
          return;
        }
        sessionStorage.setItem(TOKEN_KEY, token);
        session.token = token;
        session.claims = claims;
        banner("");
        if (location.hash === "#/") render();
        else location.hash = "#/";
      },
    },
    h("h1", {}, t("login.title")),
    h("p", { class: "muted" }, t("login.help")),
    field(t("login.token"), input),
    h("p", {}, h("button", { class: "primary", type: "submit", id: "login-submit" }, t("login"))),
  );
  $("#page").replaceChildren(h("div", { class: "login panel" }, form));
  if (session.notice) banner(session.notice);
  session.notice = "";
}

// ---------------------------------------------------------------- task board

const TASK_FIELDS = `id contractNo kind status statusLabel productCode channelCode managerId borrowerName seatNo interviewSeatNo
  appointmentStart appointmentEnd rescheduleCount bookingStatus bookingError cancelReason createdAt updatedAt version
  requiredSteps participants { name idType idNumber phone roles isMainBorrower }`;

const FILTERS = ["contractNo", "seatNo", "productCode", "channelCode"];

function taskRow(task) {
  return h(
    "tr",
    { "data-task": task.id },
    h("td", {}, h("a", { href: `#/task/${task.id}` }, task.contractNo)),
    h("td", {}, task.borrowerName),
    h("td", {}, enumLabel("TaskKind", task.kind)),
    h("td", {}, `${task.productCode} / ${task.channelCode}`),
    h("td", {}, task.seatNo ?? ""),
    h("td", {}, task.appointmentStart ? `${fmt(task.appointmentStart)}–${fmtTime(task.appointmentEnd)}` : ""),
    h("td", {}, badge(task.status, statusLabel(task.status))),
    h("td", {}, fmt(task.updatedAt)),
  );
}

function matchesFilter(task, status, filter) {
  if (status && task.status !== status) return false;
  if ((filter.from || filter.to) && !task.appointmentStart) return false;
  const start = Date.parse(task.appointmentStart);
  if (filter.from && start < Date.parse(filter.from)) return false;
  if (filter.to && start >= Date.parse(filter.to)) return false;
  return FILTERS.every((key) => !filter[key] || task[key] === filter[key]);
}

async function boardPage(_arg, params) {
  const status = params.get("status") || null;
  const filter = Object.fromEntries(FILTERS.map((k) => [k, params.get(k) || null]));
  // Appointment days, Beijing time: from the first day's midnight to the day after the last.
  const fromDay = params.get("from") || "";
  const toDay = params.get("to") || "";
  filter.from = fromDay ? shanghaiDayToIso(fromDay) : null;
  filter.to = toDay ? shanghaiDayToIso(addDays(toDay, 1)) : null;
  const after = params.get("after") || null;
  const data = await gql(
    `query($first: Int, $after: String, $status: TaskStatus, $filter: TaskFilterInput!) {
      tasks(first: $first, after: $after, status: $status, filter: $filter) {
        pageInfo { hasNextPage endCursor } nodes { ${TASK_FIELDS} } } }`,
    { first: 25, after, status, filter },
  );
  const tbody = h("tbody", {}, data.tasks.nodes.map(taskRow));
  const live = h("span", { class: "live off", id: "live" }, t("offline"));
  const statusSelect = h(
    "select",
    { name: "status" },
    h("option", { value: "" }, t("f.all")),
    Object.keys(session.labels.taskStatus).map((s) => h("option", { value: s, selected: s === status }, statusLabel(s))),
  );
  const inputs = FILTERS.map((key) => h("input", { name: key, value: filter[key] ?? "", size: 12 }));
  inputs.push(h("input", { name: "from", type: "date", value: fromDay }), h("input", { name: "to", type: "date", value: toDay }));
  const form = h(
    "form",
    {
      class: "inline",
      id: "board-filter",
      onsubmit: (event) => {
        event.preventDefault();
        const next = { status: statusSelect.value };
        inputs.forEach((input) => (next[input.name] = input.value.trim()));
        go("board", "", next);
      },
    },
    field(t("f.status"), statusSelect),
    inputs.map((input) => field(t(input.type === "date" ? `f.appointment.${input.name}` : `f.${input.name}`), input)),
    h("button", { type: "submit", class: "primary" }, t("search")),
    h("button", { type: "button", onclick: () => go("board") }, t("reset")),
  );
  if (!after && may("Subscription.taskChanged")) {
    // Live: a changed task replaces its row; a new one that matches the filter
    // goes on top (the board is newest first).
    disposers.push(
      subscribe(
        `subscription { taskChanged { ${TASK_FIELDS} } }`,
        {},
        ({ taskChanged: task }) => {
          const existing = tbody.querySelector(`tr[data-task="${CSS.escape(task.id)}"]`);
          const row = taskRow(task);
          row.classList.add("flash");
          if (existing) {
            if (matchesFilter(task, status, filter)) existing.replaceWith(row);
            else existing.remove();
          } else if (matchesFilter(task, status, filter)) {
            tbody.prepend(row);
          }
        },
        (on) => {
          live.className = on ? "live" : "live off";
          live.textContent = on ? `● ${t("live")}` : t("offline");
        },
      ),
    );
  }
  const headers = ["f.contractNo", "f.borrower", "f.kind", "f.productCode", "f.seat", "f.appointment", "f.status", "f.updatedAt"].map(t);
  const pager = h(
    "div",
    { class: "toolbar" },
    after ? h("button", { type: "button", onclick: () => go("board", "", { ...Object.fromEntries(params), after: "" }) }, t("first")) : null,
    data.tasks.pageInfo.hasNextPage
      ? h("button", { type: "button", onclick: () => go("board", "", { ...Object.fromEntries(params), after: data.tasks.pageInfo.endCursor }) }, t("next"))
      : null,
  );
  return [
    h("div", { class: "toolbar" }, h("h1", {}, t("board.title")), live,
      may("Mutation.createInterviewTask") ? h("a", { href: "#/new", id: "new-task" }, h("button", { type: "button", class: "primary" }, t("board.new"))) : null),
    panel(null, form, h("table", { id: "board" }, tableHead(headers), tbody), pager),
  ];
}

// ---------------------------------------------------------------- new task

function participantRow() {
  const roleSelect = h("select", { name: "role" }, Object.keys(ENUMS.zh.ParticipantRole).map((r) => h("option", { value: r }, enumLabel("ParticipantRole", r))));
  return h(
    "div",
    { class: "toolbar participant" },
    field(t("f.name"), h("input", { name: "name", required: true, size: 10 })),
    field(t("f.idNumber"), h("input", { name: "idNumber", required: true, size: 20 })),
    field(t("f.phone"), h("input", { name: "phone", required: true, size: 12 })),
    field(t("f.roles"), roleSelect),
  );
}

function newTaskPage() {
  const rows = h("div", { id: "participants" }, participantRow());
  const kind = h("select", { name: "kind" }, Object.keys(ENUMS.zh.TaskKind).map((k) => h("option", { value: k }, enumLabel("TaskKind", k))));
  const input = (name, value = "") => h("input", { name, value, required: true, size: 16 });
  const contractNo = input("contractNo");
  const productCode = input("productCode", "YXD");
  const channelCode = input("channelCode", "YYZX");
  const managerId = input("managerId", session.claims.role === "ACCOUNT_MANAGER" ? session.claims.sub : "");
  const submit = h("button", { type: "submit", class: "primary", id: "create-task" }, t("create"));
  const form = h(
    "form",
    {
      id: "new-task-form",
      onsubmit: (event) => {
        event.preventDefault();
        const participants = [...rows.querySelectorAll(".participant")].map((row) => ({
          name: $("[name=name]", row).value.trim(),
          idNumber: $("[name=idNumber]", row).value.trim(),
          phone: $("[name=phone]", row).value.trim(),
          roles: [$("[name=role]", row).value],
        }));
        let id;
        act(
          submit,
          async () => {
            const data = await gql(
              `mutation($input: CreateInterviewTaskInput!) { createInterviewTask(input: $input) { taskId } }`,
              { input: { contractNo: contractNo.value.trim(), kind: kind.value, productCode: productCode.value.trim(), channelCode: channelCode.value.trim(), managerId: managerId.value.trim(), participants } },
            );
            id = data.createInterviewTask.taskId;
          },
          async () => go("task", id),
        );
      },
    },
    h("div", { class: "toolbar" }, field(t("f.contractNo"), contractNo), field(t("f.kind"), kind), field(t("f.productCode"), productCode),
      field(t("f.channelCode"), channelCode), field(t("f.managerId"), managerId)),
    h("h2", {}, t("task.participants")),
    rows,
    h("p", {}, h("button", { type: "button", onclick: () => rows.append(participantRow()) }, t("new.addParticipant")), " ", submit),
  );
  return [h("h1", {}, t("new.title")), panel(null, form)];
}

// ---------------------------------------------------------------- task detail

async function taskPage(id) {
  const data = await gql(
    `query($id: ID!) { taskDetail(id: $id) { task { ${TASK_FIELDS} } detail timeline { at eventType actorId actorRole onBehalfOfId onBehalfOfRole } } }`,
    { id },
  );
  if (!data.taskDetail) throw new ApiError(`${t("task.title")} ${id}`, "NOT_FOUND");
  const { task, timeline } = data.taskDetail;
  const detail = data.taskDetail.detail ?? {};
  const done = {
    FIELD_INVESTIGATION: Boolean(detail.fieldInvestigation),
    IDENTITY_CHECK: Boolean(detail.identityChecks?.length),
    VIDEO_WITNESS: Boolean(detail.recordings?.length),
    INFO_ENTRY: Boolean(detail.infoEntry),
  };
  const list = (items, render) => (items?.length ? h("ul", {}, items.map((item) => h("li", {}, render(item)))) : h("p", { class: "muted" }, t("none")));
  const auditLink = may("Query.auditTrail") ? h("a", { href: `#/audit?type=interview-task&id=${task.id}`, id: "audit-link" }, t("task.audit")) : null;
  const left = [
    panel(
      t("task.facts"),
      facts([
        [t("f.status"), badge(task.status, statusLabel(task.status))],
        [t("f.contractNo"), task.contractNo],
        [t("f.kind"), enumLabel("TaskKind", task.kind)],
        [t("f.productCode"), task.productCode],
        [t("f.channelCode"), task.channelCode],
        [t("f.managerId"), task.managerId],
        [t("f.seat"), task.seatNo],
        [t("f.appointment"), task.appointmentStart ? `${fmt(task.appointmentStart)}–${fmtTime(task.appointmentEnd)}` : null],
        [t("f.reschedules"), String(task.rescheduleCount)],
        [t("f.booking"), task.bookingError ? `${task.bookingStatus ?? ""} ${task.bookingError}` : task.bookingStatus],
        [t("f.cancelReason"), task.cancelReason],
        [t("f.createdAt"), fmt(task.createdAt)],
        [t("f.version"), String(task.version)],
      ]),
      h("p", {}, h("a", { href: `#/lineage/${encodeURIComponent(task.contractNo)}`, id: "lineage-link" }, t("task.lineage")), auditLink ? [" · ", auditLink] : null),
    ),
    panel(
      t("task.participants"),
      table(
        [t("f.name"), t("f.idNumber"), t("f.phone"), t("f.roles")],
        task.participants.map((p) =>
          h("tr", {}, h("td", {}, p.name, p.isMainBorrower ? ` (${t("f.mainBorrower")})` : ""), h("td", { class: "mono" }, p.idNumber),
            h("td", { class: "mono" }, p.phone), h("td", {}, p.roles.map((r) => enumLabel("ParticipantRole", r)).join("、"))),
        ),
      ),
    ),
    panel(t("task.steps"), h("ul", { class: "steps", id: "steps" }, task.requiredSteps.map((s) => h("li", { class: done[s] ? "done" : null }, done[s] ? "✓ " : "○ ", enumLabel("TaskStep", s))))),
    panel(t("task.conclusion"), detail.conclusion
      ? facts([[t("f.result"), enumLabel("Outcome", detail.conclusion.outcome)], [t("f.at"), fmt(detail.conclusion.at)]])
      : h("p", { class: "muted" }, t("none"))),
    panel(t("task.snapshots"), list(detail.snapshots, (s) => [h("b", {}, enumLabel("SnapshotCategory", s.category)), " ", h("span", { class: "mono" }, s.storage_ref), " ", h("span", { class: "muted" }, fmt(s.at))])),
    panel(t("task.documents"), list(detail.documents, (d) => [d.name, " ", h("span", { class: "mono" }, d.document_id), " — ",
      d.signed_ref ? `${t("task.signed")} ${fmt(d.signed_at)}` : t("task.unsigned")])),
    panel(t("task.identity"), list(detail.identityChecks, (c) => [h("span", { class: "mono" }, c.id_number), " ",
      badge(c.passed ? "PASSED" : "REJECTED", c.passed ? t("yes") : t("no")),
      ` ${t("task.similarity")} ${c.similarity} / ${c.threshold} · ${t("task.liveness")} ${c.liveness_passed ? "✓" : "✗"} `, h("span", { class: "muted" }, fmt(c.at))])),
    panel(t("task.loanInfo"), detail.loanInfo ? h("pre", { class: "json" }, JSON.stringify(detail.loanInfo, null, 2)) : h("p", { class: "muted" }, t("none"))),
    panel(t("task.calls"), list(detail.calls, (c) => h("span", { class: "mono" }, JSON.stringify(c)))),
    panel(t("task.chat"), list(detail.chat, (c) => [h("span", { class: "muted" }, fmt(c.at)), " ", c.sender ? h("b", {}, `${c.sender}: `) : null, c.text ?? JSON.stringify(c)])),
    panel(t("task.remarks"), h("div", { id: "remarks" }, list(detail.remarks, (r) => [h("span", { class: "muted" }, fmt(r.at)), " ", r.text ?? JSON.stringify(r)])), remarkForm(task)),
  ];
  const right = [
    panel(t("task.actions"), await taskActions(task, timeline)),
    panel(t("task.timeline"), h("ol", { class: "timeline", id: "timeline" }, timeline.map((e) =>
      h("li", { "data-event": e.eventType }, h("b", {}, e.eventType), h("br"), h("span", { class: "muted" }, `${fmt(e.at)} · ${who(e)}`))))),
  ];
  return [
    h("h1", {}, `${t("task.title")} ${task.contractNo} `, badge(task.status, statusLabel(task.status))),
    h("div", { class: "grid2" }, h("div", {}, left), h("div", {}, right)),
  ];
}

function remarkForm(task) {
  if (!may("Mutation.addRemark")) return null;
  const text = h("textarea", { name: "remark", rows: 2 });
  const button = h("button", { type: "submit" }, t("task.addRemark"));
  return h("form", {
    id: "remark-form",
    onsubmit: (event) => {
      event.preventDefault();
      act(button, () => gql(`mutation($id: ID!, $text: String!) { addRemark(taskId: $id, text: $text) { taskId } }`, { id: task.id, text: text.value }));
    },
  }, field(t("task.remarkText"), text), button);
}

async function taskActions(task, timeline) {
  const actions = [];
  // 000: the seat that connected the interview holds the task; other seats
  // see who holds it and are offered nothing to do on it.
  const holder = task.status === "IN_PROGRESS" ? task.interviewSeatNo : null;
  const works = session.claims.role !== "SEAT" || holder === session.claims.sub;
  if (holder && !works) {
    actions.push(h("p", { class: "muted", id: "held-by" }, t("task.heldBy").replace("{seat}", holder)));
  }
  if (task.status === "PENDING" && !task.appointmentStart && may("Mutation.bookAppointment")) {
    actions.push(h("h2", {}, t("task.book")), await slotPicker(task, "bookAppointment"));
  }
  if (task.status === "PENDING" && task.appointmentStart && may("Mutation.rescheduleAppointment")) {
    // 001: staff reschedule on the borrower's behalf (改约 counted and limited
    // by the write side).
    actions.push(h("details", { id: "reschedule" }, h("summary", {}, `${t("task.reschedule")} (${t("f.reschedules")} ${task.rescheduleCount})`),
      await slotPicker(task, "rescheduleAppointment", ", onBehalfOfBorrower: true")));
  }
  if (task.status === "PENDING" && task.appointmentStart && may("Mutation.startInterview")) {
    actions.push(commandButton("startInterview", t("task.start"),
      `mutation($id: ID!, $seat: String!) { startInterview(taskId: $id, seatNo: $seat) { taskId } }`, { id: task.id, seat: session.claims.sub },
      { id: "start-interview", class: "primary" }));
  }
  if (task.status === "IN_PROGRESS" && works && may("Mutation.endCall")) {
    // The video platform reports the queue and answer times; here the seat ends
    // the call it answered when the interview started.
    const started = [...timeline].reverse().find((e) => e.eventType === "InterviewStarted")?.at ?? new Date().toISOString();
    actions.push(commandButton("endCall", t("task.endCall"),
      `mutation($id: ID!, $q: DateTime!, $a: DateTime!) { endCall(taskId: $id, end: NORMAL, queuedAt: $q, answeredAt: $a) { taskId } }`,
      { id: task.id, q: started, a: started }, { id: "end-call" }));
  }
  if (task.status === "IN_PROGRESS" && works && may("Mutation.concludeInterview")) {
    const conclude = `mutation($id: ID!, $outcome: InterviewOutcome!) { concludeInterview(taskId: $id, outcome: $outcome) { taskId } }`;
    actions.push(h("h2", {}, t("task.conclude")),
      h("div", { class: "toolbar" },
        commandButton("concludeInterview", t("task.pass"), conclude, { id: task.id, outcome: "PASS" }, { id: "conclude-pass", class: "primary" }),
        commandButton("concludeInterview", t("task.doubtful"), conclude, { id: task.id, outcome: "DOUBTFUL" }, { id: "conclude-doubtful" })));
  }
  if (holder && works && may("Mutation.releaseTask")) {
    const reason = h("input", { name: "releaseReason", size: 18, placeholder: t("task.releaseReason") });
    actions.push(h("div", { class: "toolbar" }, reason, commandButton("releaseTask", t("task.release"),
      `mutation($id: ID!, $reason: String!) { releaseTask(taskId: $id, reason: $reason) { taskId } }`,
      () => ({ id: task.id, reason: reason.value }), { id: "release-task" })));
  }
  if (["PENDING", "IN_PROGRESS"].includes(task.status) && may("Mutation.cancelInterviewTask")) {
    const reason = h("input", { name: "cancelReason", size: 18, placeholder: t("task.cancelReasonPrompt") });
    const button = commandButton("cancelInterviewTask", t("task.cancelTask"),
      `mutation($id: ID!, $reason: String!) { cancelInterviewTask(id: $id, reason: $reason) { taskId } }`,
      () => ({ id: task.id, reason: reason.value }), { class: "danger", id: "cancel-task" });
    actions.push(h("div", { class: "toolbar" }, reason, button));
  }
  return actions.length ? actions : h("p", { class: "muted" }, t("none"));
}

// Free slots of the next seven days as buttons; a click books (or reschedules) it.
async function slotPicker(task, mutation, extra = "") {
  const from = new Date();
  const to = new Date(from.getTime() + 7 * 86400 * 1000);
  const data = await gql(
    `query($from: DateTime!, $to: DateTime!, $p: String, $c: String) { freeSlots(from: $from, to: $to, productCode: $p, channelCode: $c) { seatNo start end } }`,
    { from: from.toISOString(), to: to.toISOString(), p: task.productCode, c: task.channelCode },
  );
  if (!data.freeSlots.length) return h("p", { class: "muted" }, t("task.noSlots"));
  return h("div", {}, h("p", { class: "muted" }, t("task.slots")), h("div", { class: "slots", id: "slots" },
    data.freeSlots.slice(0, 40).map((slot) => commandButton(mutation, `${fmt(slot.start)} ${slot.seatNo}`,
      `mutation($id: ID!, $seat: String!, $start: DateTime!, $end: DateTime!) { ${mutation}(taskId: $id, seatNo: $seat, start: $start, end: $end${extra}) { taskId } }`,
      { id: task.id, seat: slot.seatNo, start: slot.start, end: slot.end }, { "data-seat": slot.seatNo, "data-start": slot.start }))));
}

// ---------------------------------------------------------------- lineage

async function lineagePage(contractNo) {
  const input = h("input", { name: "contractNo", value: contractNo ?? "", size: 20 });
  const form = h("form", { class: "inline", onsubmit: (e) => { e.preventDefault(); go("lineage", input.value.trim()); } },
    field(t("f.contractNo"), input), h("button", { type: "submit", class: "primary" }, t("search")));
  const head = [h("h1", {}, t("lineage.title")), panel(null, h("p", { class: "muted" }, t("lineage.help")), form)];
  if (!contractNo) return head;
  const data = await gql(
    `query($c: String!) { taskLineage(contractNo: $c) { taskId round supersedes supersededBy transition reason actorId actorRole createdAt supersededTransition supersededReason supersededAt } }`,
    { c: contractNo },
  );
  const entries = data.taskLineage;
  // The board has the contract's tasks with their statuses, in one query.
  const board = await gql(`query($c: String!) { tasks(first: 100, filter: { contractNo: $c }) { nodes { id status } } }`, { c: contractNo });
  const statuses = Object.fromEntries(board.tasks.nodes.map((task) => [task.id, task.status]));
  return [...head, panel(contractNo, lineageChart(entries, statuses), table(
    [t("f.round"), "ID", t("f.transition"), t("f.reason"), t("f.actor"), t("f.createdAt")],
    entries.map((e) => h("tr", {}, h("td", {}, String(e.round)), h("td", { class: "mono" }, h("a", { href: `#/task/${e.taskId}` }, e.taskId)),
      h("td", {}, e.transition), h("td", {}, e.reason ?? ""), h("td", {}, `${e.actorId} (${enumLabel("Role", e.actorRole)})`), h("td", {}, fmt(e.createdAt)))),
  ))];
}

// The chain as SVG: one box per task, left to right by round, an arrow from a
// task to the one that superseded it, labelled with how and why.
function lineageChart(entries, statuses) {
  const boxW = 190, boxH = 84, gap = 120, pad = 20;
  const width = pad * 2 + entries.length * boxW + Math.max(0, entries.length - 1) * gap;
  const svg = h("svg", { id: "lineage-chart", width, height: boxH + pad * 2 + 30, viewBox: `0 0 ${width} ${boxH + pad * 2 + 30}`, role: "img" },
    h("defs", {}, h("marker", { id: "arrow", markerWidth: 10, markerHeight: 10, refX: 9, refY: 5, orient: "auto", markerUnits: "userSpaceOnUse" }, h("path", { d: "M0,0 L10,5 L0,10 z", fill: "#486581" }))));
  const x = (i) => pad + i * (boxW + gap);
  entries.forEach((e, i) => {
    const status = statuses[e.taskId];
    const link = h("svg:a", { href: `#/task/${e.taskId}`, "data-task": e.taskId },
      h("rect", { x: x(i), y: pad, width: boxW, height: boxH, rx: 6, fill: status === "SUPERSEDED" ? "#edf2f7" : "#ebf8ff", stroke: "#1d5fbf" }),
      h("text", { x: x(i) + 10, y: pad + 20, "font-weight": 700, "font-size": 13 }, `#${e.round} ${e.transition}`),
      h("text", { x: x(i) + 10, y: pad + 40, "font-size": 11, fill: "#334e68" }, e.taskId.slice(0, 18)),
      h("text", { x: x(i) + 10, y: pad + 58, "font-size": 12 }, status ? statusLabel(status) : ""),
      h("text", { x: x(i) + 10, y: pad + 75, "font-size": 11, fill: "#66788a" }, fmt(e.createdAt)));
    svg.append(link);
    const next = entries.findIndex((n) => n.taskId === e.supersededBy);
    if (next > i) {
      const x1 = x(i) + boxW, x2 = x(next), y = pad + boxH / 2;
      svg.append(h("line", { x1, y1: y, x2: x2 - 2, y2: y, stroke: "#486581", "stroke-width": 2, "marker-end": "url(#arrow)" }));
      const label = e.supersededTransition ?? "";
      svg.append(h("text", { x: (x1 + x2) / 2, y: y - 8, "text-anchor": "middle", "font-size": 12 }, label));
      if (e.supersededReason) svg.append(h("text", { x: (x1 + x2) / 2, y: y + 18, "text-anchor": "middle", "font-size": 11, fill: "#66788a" }, e.supersededReason.slice(0, 16)));
    }
  });
  return svg;
}

// ---------------------------------------------------------------- seat calendar

const HOUR_PX = 36;

// "HH:MM[:SS]" as hours.
function hoursOf(time) {
  const [hh, mm] = time.split(":").map(Number);
  return hh + mm / 60;
}

function mondayOf(day) {
  const dow = (new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7;
  return addDays(day, -dow);
}

async function calendarPage(_arg, params) {
  const seats = (await gql(`{ seats { seatNo name enabled signedIn presence groups skills workingHours { weekday start end } } }`)).seats;
  const seatNo = params.get("seat") || (session.claims.role === "SEAT" ? session.claims.sub : seats[0]?.seatNo);
  const week = mondayOf(params.get("week") || todayShanghai());
  const select = h("select", { name: "seat", onchange: () => go("calendar", "", { seat: select.value, week }) },
    seats.map((s) => h("option", { value: s.seatNo, selected: s.seatNo === seatNo }, `${s.seatNo} ${s.name}`)));
  const toolbar = h("div", { class: "toolbar" }, field(t("f.seat"), select),
    h("button", { type: "button", onclick: () => go("calendar", "", { seat: seatNo, week: addDays(week, -7) }) }, t("calendar.prev")),
    h("b", {}, `${week} – ${addDays(week, 6)}`),
    h("button", { type: "button", onclick: () => go("calendar", "", { seat: seatNo, week: addDays(week, 7) }) }, t("calendar.next")));
  if (!seatNo) return [h("h1", {}, t("calendar.title")), panel(null, h("p", { class: "muted" }, t("none")))];
  const bookings = (await gql(
    `query($s: String!, $from: DateTime!, $to: DateTime!) { seatCalendar(seatNo: $s, from: $from, to: $to) { taskId start end } }`,
    { s: seatNo, from: shanghaiDayToIso(week), to: shanghaiDayToIso(addDays(week, 7)) },
  )).seatCalendar;
  const seat = seats.find((s) => s.seatNo === seatNo);
  // 08:00–20:00, widened to every working period and booking of the week.
  const clock = (iso) => { const p = shanghaiParts(iso); return p.hh + p.mm / 60; };
  const starts = [8, ...(seat?.workingHours ?? []).map((p) => hoursOf(p.start)), ...bookings.map((b) => clock(b.start))];
  const ends = [20, ...(seat?.workingHours ?? []).map((p) => hoursOf(p.end)),
    ...bookings.map((b) => (shanghaiParts(b.end).d === shanghaiParts(b.start).d ? clock(b.end) : 24))];
  const firstHour = Math.floor(Math.min(...starts));
  const lastHour = Math.min(24, Math.ceil(Math.max(...ends)));
  const weekdays = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];
  const grid = h("div", { class: "week", id: "week" }, h("div", { class: "head" }, ""),
    weekdays.map((_, i) => h("div", { class: "head" }, `${enumLabel("Weekday", i)} ${addDays(week, i).slice(5)}`)));
  const hours = h("div", { class: "hours" });
  for (let hour = firstHour; hour < lastHour; hour++) hours.append(h("div", { class: "hour" }, `${String(hour).padStart(2, "0")}:00`));
  grid.append(hours);
  const toPx = (hours) => Math.max(0, Math.min(lastHour - firstHour, hours - firstHour)) * HOUR_PX;
  weekdays.forEach((weekday, i) => {
    const column = h("div", { class: "day", style: { height: `${(lastHour - firstHour) * HOUR_PX}px` } });
    for (const period of seat?.workingHours.filter((p) => p.weekday === weekday) ?? []) {
      const [top, bottom] = [toPx(hoursOf(period.start)), toPx(hoursOf(period.end))];
      column.append(h("div", { class: "working", title: t("calendar.working"), style: { top: `${top}px`, height: `${bottom - top}px` } }));
    }
    for (const booking of bookings.filter((b) => shanghaiParts(b.start).dow === i)) {
      const top = toPx(clock(booking.start));
      const bottom = shanghaiParts(booking.end).d === shanghaiParts(booking.start).d ? toPx(clock(booking.end)) : toPx(24);
      column.append(h("a", { class: "booking", href: `#/task/${booking.taskId}`, "data-task": booking.taskId, title: `${fmt(booking.start)}–${fmtTime(booking.end)}`,
        style: { top: `${top}px`, height: `${Math.max(14, bottom - top)}px` } },
      `${fmtTime(booking.start)} ${booking.taskId.slice(-6)}`));
    }
    grid.append(column);
  });
  return [h("h1", {}, t("calendar.title")), seat ? seatStatus(seat) : null, panel(null, toolbar, grid,
    h("div", { class: "legend" }, h("span", {}, h("i", { style: { background: "#f0fff4" } }), t("calendar.working")), h("span", {}, h("i", { style: { background: "#bee3f8" } }), `${t("calendar.booked")} (${bookings.length})`)))];
}

// The seat's sign-in and 001 status (空闲 / 暂放 / 忙碌 / 话后处理), with the
// changes the role may make; 忙碌 is the system's to set.
function seatStatus(seat) {
  const bySeat = (op, extra = "") => `mutation($s: String!${extra ? ", $p: SeatPresence!" : ""}) { ${op}(seatNo: $s${extra}) { seatNo } }`;
  const actions = seat.signedIn
    ? [commandButton("signOut", t("seat.signOut"), bySeat("signOut"), { s: seat.seatNo }),
      ...["IDLE", "PAUSED"].filter((p) => p !== seat.presence).map((p) =>
        commandButton("setPresence", `${t("seat.setTo")}${enumLabel("Presence", p)}`, bySeat("setPresence", ", presence: $p"), { s: seat.seatNo, p }))]
    : [commandButton("signIn", t("seat.signIn"), bySeat("signIn"), { s: seat.seatNo })];
  return panel(`${seat.seatNo} ${seat.name}`, h("div", { class: "toolbar", id: "seat-status" },
    badge(seat.enabled ? "PASSED" : "CANCELLED", seat.enabled ? t("enable") : t("disable")),
    badge(seat.signedIn ? "OPEN" : "CANCELLED", seat.signedIn ? t("seat.signedIn") : t("seat.signedOut")),
    seat.signedIn ? badge(seat.presence, enumLabel("Presence", seat.presence)) : null,
    h("span", { class: "muted" }, [...seat.groups, ...seat.skills].join(" · ")),
    actions));
}

// ---------------------------------------------------------------- QC queue

async function qcPage(_arg, params) {
  const status = params.get("status") ?? "";
  const cases = (await gql(
    `query($filter: QcFilterInput!) { qcCases(filter: $filter, first: 100) { id taskId contractNo seatNo origin status reviewer passed reasons otherText comment openedAt decidedAt queuePosition } }`,
    { filter: { status: status || null } },
  )).qcCases;
  const select = h("select", { name: "status", onchange: () => go("qc", "", { status: select.value }) }, h("option", { value: "" }, t("f.all")),
    ["OPEN", "CLAIMED", "DECIDED"].map((s) => h("option", { value: s, selected: s === status }, enumLabel("QcStatus", s))));
  const rows = cases.map((c) => {
    const actions = [];
    if (c.status === "OPEN") {
      actions.push(commandButton("claimQcCase", t("qc.claim"), `mutation($id: ID!) { claimQcCase(id: $id) { case { id } } }`, { id: c.id }, { class: "claim" }));
    }
    if (c.status === "CLAIMED" && c.reviewer === session.claims.sub) {
      actions.push(commandButton("releaseQcCase", t("qc.release"), `mutation($id: ID!) { releaseQcCase(id: $id) { case { id } } }`, { id: c.id }, { class: "release" }));
    }
    const result = c.status === "DECIDED"
      ? [c.passed ? t("qc.pass") : t("qc.reject"), c.reasons.length ? h("ul", {}, c.reasons.map((r) => h("li", {}, reasonLabel(r)))) : null, c.otherText, c.comment ? h("div", { class: "muted" }, c.comment) : null]
      : null;
    return h("tr", { "data-case": c.id, "data-task": c.taskId },
      h("td", {}, h("a", { href: `#/task/${c.taskId}` }, c.contractNo)), h("td", {}, c.seatNo), h("td", {}, enumLabel("QcOrigin", c.origin)),
      h("td", {}, badge(c.status, enumLabel("QcStatus", c.status))), h("td", {}, c.reviewer ?? ""), h("td", {}, fmt(c.openedAt)),
      h("td", {}, result), h("td", {}, actions));
  });
  const mine = cases.filter((c) => c.status === "CLAIMED" && c.reviewer === session.claims.sub && may("Mutation.decideQcCase"));
  return [
    h("h1", {}, t("qc.title")),
    panel(null, h("div", { class: "toolbar" }, field(t("f.status"), select)),
      table([t("f.contractNo"), t("f.seat"), t("f.origin"), t("f.status"), t("f.reviewer"), t("f.openedAt"), t("f.result"), t("task.actions")], rows)),
    mine.length ? panel(t("qc.mine"), mine.map(decisionForm)) : null,
  ];
}

function decisionForm(qcCase) {
  // No verdict is preselected: the reviewer must choose one.
  const verdict = (value) => h("label", {}, h("input", { type: "radio", name: `verdict-${qcCase.id}`, value, required: true }), " ", value === "PASS" ? t("qc.pass") : t("qc.reject"));
  const reasons = h("div", { class: "reasons" }, session.labels.rejectReasons.map((r) =>
    h("label", {}, h("input", { type: "checkbox", name: "reason", value: r.code }), h("span", {}, reasonLabel(r.code)))));
  const otherText = h("input", { name: "otherText", size: 40 });
  const comment = h("textarea", { name: "comment", rows: 2 });
  const submit = h("button", { type: "submit", class: "primary" }, t("qc.decide"));
  return h("form", {
    class: "decision", "data-case": qcCase.id,
    onsubmit: (event) => {
      event.preventDefault();
      const form = event.currentTarget;
      const chosen = [...form.querySelectorAll("input[name=reason]:checked")].map((i) => i.value);
      const verdictValue = form.querySelector(`input[name="verdict-${qcCase.id}"]:checked`).value;
      act(submit, () => gql(
        `mutation($id: ID!, $verdict: QcVerdict!, $reasons: [RejectReason!]!, $other: String, $comment: String!) {
          decideQcCase(id: $id, verdict: $verdict, reasons: $reasons, otherText: $other, comment: $comment) { case { id status } } }`,
        { id: qcCase.id, verdict: verdictValue, reasons: chosen, other: otherText.value.trim() || null, comment: comment.value },
      ));
    },
  },
  h("h2", {}, `${qcCase.contractNo} · ${enumLabel("QcOrigin", qcCase.origin)}`),
  h("div", { class: "toolbar" }, t("qc.verdict"), verdict("PASS"), verdict("REJECT")),
  h("div", {}, t("f.reasons")), reasons, field(t("f.otherText"), otherText), field(t("f.comment"), comment), h("p", {}, submit));
}

// ---------------------------------------------------------------- incidents

async function incidentsPage(_arg, params) {
  const status = params.get("status") ?? "FAILED";
  const callbacks = (await gql(`query($s: CallbackStatus) { callbacks(status: $s) { id target kind subject url status attempts lastError nextAt updatedAt } }`,
    { s: status || null })).callbacks;
  const select = h("select", { name: "status", onchange: () => go("incidents", "", { status: select.value }) }, h("option", { value: "" }, t("f.all")),
    ["FAILED", "PENDING", "DELIVERED"].map((s) => h("option", { value: s, selected: s === status }, enumLabel("CallbackStatus", s))));
  const rows = callbacks.map((c) => {
    const retry = c.status === "FAILED"
      ? commandButton("retryCallback", t("retry"), `mutation($id: ID!) { retryCallback(id: $id) { id } }`, { id: c.id }, { class: "retry" })
      : null;
    return h("tr", { "data-callback": c.id }, h("td", {}, c.target), h("td", {}, c.kind), h("td", {}, c.subject), h("td", { class: "mono" }, c.url),
      h("td", {}, badge(c.status, enumLabel("CallbackStatus", c.status))), h("td", {}, String(c.attempts)), h("td", {}, c.lastError ?? ""),
      h("td", {}, c.nextAt ? fmt(c.nextAt) : ""), h("td", {}, fmt(c.updatedAt)), h("td", {}, retry));
  });
  return [h("h1", {}, t("incidents.title")), panel(null, h("p", { class: "muted" }, t("incidents.help")), h("div", { class: "toolbar" }, field(t("f.status"), select)),
    table([t("f.target"), t("f.callbackKind"), t("f.subject"), t("f.url"), t("f.status"), t("f.attempts"), t("f.lastError"), t("f.nextAt"), t("f.updatedAt"), ""], rows))];
}

// ---------------------------------------------------------------- admin

const ADMIN_TABS = [
  { tab: "channels", op: "Query.channels", render: channelsTab },
  { tab: "scripts", op: "Query.scripts", render: scriptsTab },
  { tab: "media", op: "Query.mediaAssets", render: mediaTab },
  { tab: "accounts", op: "Query.accounts", render: accountsTab },
];

async function adminPage(tab) {
  const tabs = ADMIN_TABS.filter((x) => may(x.op));
  const current = tabs.find((x) => x.tab === tab) ?? tabs[0];
  return [h("h1", {}, t("admin.title")),
    h("nav", { class: "tabs" }, tabs.map((x) => h("a", { href: `#/admin/${x.tab}`, class: x === current ? "active" : null }, t(`admin.${x.tab}`)))),
    current ? panel(null, await current.render()) : null];
}

// A create form of named inputs; `build` turns their values into variables.
function createForm(operation, inputs, query, build) {
  if (!may(`Mutation.${operation}`)) return null;
  const submit = h("button", { type: "submit", class: "primary" }, t("create"));
  return h("form", { class: "inline", id: `${operation}-form`, onsubmit: (event) => {
    event.preventDefault();
    const values = Object.fromEntries(inputs.map(([name, input]) => [name, input.type === "checkbox" ? input.checked : input.value.trim()]));
    act(submit, () => gql(query, build(values)));
  } }, inputs.map(([name, input, label]) => field(label ?? t(`f.${name}`), input)), submit);
}

async function channelsTab() {
  const channels = (await gql(`{ channels { code name orgName orgCode enabled createdAt } }`)).channels;
  const input = (name) => [name, h("input", { name, size: 12 })];
  return [createForm("createChannel", [input("code"), [...input("name"), t("f.channelName")], input("orgName"), input("orgCode"), input("localities")],
    `mutation($code: String!, $input: ChannelInput!) { createChannel(code: $code, input: $input) { code } }`,
    (v) => ({ code: v.code, input: { name: v.name, orgName: v.orgName, orgCode: v.orgCode, localities: v.localities ? v.localities.split(/[,，]/).map((s) => s.trim()).filter(Boolean) : [] } })),
  table([t("f.code"), t("f.channelName"), t("f.orgName"), t("f.orgCode"), t("f.enabled"), t("f.createdAt"), ""], channels.map((c) => {
    const byCode = (op) => `mutation($code: String!) { ${op}(code: $code) { code } }`;
    return h("tr", { "data-channel": c.code }, h("td", {}, c.code), h("td", {}, c.name), h("td", {}, c.orgName), h("td", {}, c.orgCode),
      h("td", {}, c.enabled ? t("yes") : t("no")), h("td", {}, fmt(c.createdAt)),
      h("td", {}, c.enabled ? commandButton("disableChannel", t("disable"), byCode("disableChannel"), { code: c.code })
        : commandButton("enableChannel", t("enable"), byCode("enableChannel"), { code: c.code }),
      " ", commandButton("deleteChannel", t("remove"), byCode("deleteChannel"), { code: c.code }, { class: "danger" })));
  }))];
}

async function scriptsTab() {
  const scripts = (await gql(`{ scripts { code channelCode channelName productCode productName businessKind content isDefault } }`)).scripts;
  const input = (name) => [name, h("input", { name, size: 12 })];
  const byCode = (op) => `mutation($code: String!) { ${op}(code: $code) { code } }`;
  return [createForm("addScript", [input("code"), input("channelCode"), input("productCode"), input("businessKind"), ["content", h("textarea", { name: "content", rows: 2, cols: 40 })]],
    `mutation($code: String!, $input: ScriptInput!) { addScript(code: $code, input: $input) { code } }`,
    (v) => ({ code: v.code, input: { channelCode: v.channelCode, productCode: v.productCode, businessKind: v.businessKind, content: v.content } })),
  table([t("f.code"), t("f.channelCode"), t("f.productCode"), t("f.businessKind"), t("f.content"), t("f.default"), ""], scripts.map((s) =>
    h("tr", { "data-script": s.code }, h("td", {}, s.code), h("td", {}, s.channelCode), h("td", {}, s.productCode), h("td", {}, s.businessKind),
      h("td", {}, s.content), h("td", {}, s.isDefault ? "★" : ""),
      h("td", {}, s.isDefault ? null : commandButton("makeDefaultScript", t("admin.makeDefault"), byCode("makeDefaultScript"), { code: s.code }),
        " ", commandButton("removeScript", t("remove"), byCode("removeScript"), { code: s.code }, { class: "danger" })))))];
}

async function mediaTab() {
  const media = (await gql(`{ mediaAssets { code title category url autoplay noSkip enabled createdAt } }`)).mediaAssets;
  const category = h("select", { name: "category" }, Object.keys(ENUMS.zh.MediaCategory).map((c) => h("option", { value: c }, enumLabel("MediaCategory", c))));
  const byCode = (op) => `mutation($code: String!) { ${op}(code: $code) { code } }`;
  return [createForm("createMedia", [["code", h("input", { name: "code", size: 10 })], ["title", h("input", { name: "title", size: 14 })], ["category", category],
    ["url", h("input", { name: "url", size: 24 })], ["autoplay", h("input", { type: "checkbox", name: "autoplay" })], ["noSkip", h("input", { type: "checkbox", name: "noSkip" })]],
  `mutation($code: String!, $input: MediaInput!) { createMedia(code: $code, input: $input) { code } }`,
  (v) => ({ code: v.code, input: { title: v.title, category: v.category, url: v.url, autoplay: v.autoplay, noSkip: v.noSkip } })),
  table([t("f.code"), t("f.title"), t("f.category"), t("f.url"), t("f.autoplay"), t("f.noSkip"), t("f.enabled"), ""], media.map((m) =>
    h("tr", { "data-media": m.code }, h("td", {}, m.code), h("td", {}, m.title), h("td", {}, enumLabel("MediaCategory", m.category)), h("td", { class: "mono" }, m.url),
      h("td", {}, m.autoplay ? t("yes") : t("no")), h("td", {}, m.noSkip ? t("yes") : t("no")), h("td", {}, m.enabled ? t("yes") : t("no")),
      h("td", {}, m.enabled ? commandButton("disableMedia", t("disable"), byCode("disableMedia"), { code: m.code }) : commandButton("enableMedia", t("enable"), byCode("enableMedia"), { code: m.code }),
        " ", commandButton("deleteMedia", t("remove"), byCode("deleteMedia"), { code: m.code }, { class: "danger" })))))];
}

async function accountsTab() {
  const accounts = (await gql(`{ accounts { login name phone email role status validFrom createdAt } }`)).accounts;
  const role = h("select", { name: "role" }, session.labels.roles.map((r) => h("option", { value: r }, enumLabel("Role", r))));
  const input = (name) => [name, h("input", { name, size: 12 })];
  const byLogin = (op) => `mutation($login: String!) { ${op}(login: $login) { login } }`;
  return [createForm("createAccount", [input("login"), input("name"), input("phone"), input("email"), ["role", role]],
    `mutation($login: String!, $input: AccountInput!) { createAccount(login: $login, input: $input) { login } }`,
    (v) => ({ login: v.login, input: { name: v.name, phone: v.phone || null, email: v.email || null, role: v.role } })),
  table([t("f.login"), t("f.name"), t("f.phone"), t("f.email"), t("f.role"), t("f.status"), t("f.validFrom"), ""], accounts.map((a) =>
    h("tr", { "data-account": a.login }, h("td", {}, a.login), h("td", {}, a.name), h("td", { class: "mono" }, a.phone ?? ""), h("td", {}, a.email ?? ""),
      h("td", {}, enumLabel("Role", a.role)), h("td", {}, badge(a.status, enumLabel("AccountStatus", a.status))), h("td", {}, fmt(a.validFrom)),
      h("td", {}, a.status === "DELETED" ? null : [
        a.status === "DISABLED" ? commandButton("enableAccount", t("enable"), byLogin("enableAccount"), { login: a.login }) : commandButton("disableAccount", t("disable"), byLogin("disableAccount"), { login: a.login }),
        " ", commandButton("kickAccount", t("kick"), byLogin("kickAccount"), { login: a.login }),
        " ", commandButton("deleteAccount", t("remove"), byLogin("deleteAccount"), { login: a.login }, { class: "danger" })]))))];
}

// ---------------------------------------------------------------- audit

function eventRows(events) {
  return events.map((e) => h("tr", { "data-event": e.eventType, "data-aggregate": e.aggregateId },
    h("td", { class: "mono" }, e.position), h("td", {}, fmt(e.recordedAt)),
    h("td", {}, h("a", { href: `#/audit?type=${encodeURIComponent(e.aggregateType)}&id=${encodeURIComponent(e.aggregateId)}` }, `${e.aggregateType} ${e.aggregateId.slice(0, 24)}`), ` #${e.sequence}`),
    h("td", {}, h("details", {}, h("summary", {}, e.eventType), h("pre", { class: "json" }, JSON.stringify(e.payload, null, 2)))),
    h("td", {}, who(e))));
}

// Who wrote an event: the actor, and the person the engine acted for.
function who(e) {
  const actor = `${e.actorId} (${enumLabel("Role", e.actorRole)})`;
  if (!e.onBehalfOfId) return actor;
  return `${actor} ${t("f.onBehalfOf")} ${e.onBehalfOfId} (${enumLabel("Role", e.onBehalfOfRole)})`;
}

const EVENT_FIELDS = "position aggregateType aggregateId sequence eventType actorId actorRole onBehalfOfId onBehalfOfRole recordedAt payload";

async function auditPage(_arg, params) {
  const type = params.get("type") ?? "interview-task";
  const id = params.get("id") ?? "";
  const at = params.get("at") ?? "";
  const actor = params.get("actor") ?? "";
  const feedAfter = params.get("feedAfter") ?? "";
  const headers = [t("f.position"), t("f.at"), t("f.aggregate"), t("f.event"), t("f.actor")];
  const here = Object.fromEntries(params);

  // The global feed, in log order, a page at a time.
  const feedBody = h("tbody", {});
  const more = h("button", { type: "button", id: "feed-more" }, t("more"));
  let cursor = feedAfter || null;
  const loadFeed = async () => {
    const page = (await gql(`query($after: String) { events(after: $after, first: 50) { endCursor events { ${EVENT_FIELDS} } } }`, { after: cursor })).events;
    feedBody.append(...eventRows(page.events));
    cursor = page.endCursor ?? cursor;
    more.disabled = page.events.length < 50;
  };
  more.addEventListener("click", () => loadFeed().catch((e) => banner(`${e.message} [${e.code}]`)));
  await loadFeed();

  const typeSelect = h("select", { name: "type" }, session.labels.aggregateTypes.map((x) => h("option", { value: x, selected: x === type }, x)));
  const idInput = h("input", { name: "id", value: id, size: 40 });
  const atInput = h("input", { name: "at", type: "datetime-local", step: 1, value: at });
  const form = h("form", { class: "inline", id: "trail-form", onsubmit: (e) => {
    e.preventDefault();
    go("audit", "", { type: typeSelect.value, id: idInput.value.trim(), at: atInput.value });
  } }, field(t("f.type"), typeSelect), field(t("f.id"), idInput), field(t("audit.at"), atInput), h("button", { type: "submit", class: "primary" }, t("audit.show")));

  const sections = [h("h1", {}, t("audit.title")), panel(`${t("audit.trail")} / ${t("audit.asOf")}`, form)];
  if (id) {
    const trail = (await gql(`query($t: String!, $id: String!) { auditTrail(aggregateType: $t, aggregateId: $id) { ${EVENT_FIELDS} } }`, { t: type, id })).auditTrail;
    sections.push(panel(`${t("audit.trail")}: ${type} ${id}`, h("div", { id: "trail" }, table(headers, eventRows(trail)))));
    if (trail.length) {
      // datetime-local is wall-clock Beijing time; without one, the latest state.
      const instant = at ? new Date(Date.parse(`${at.length === 16 ? `${at}:00` : at}Z`) - SHANGHAI_MS).toISOString() : null;
      const state = (await gql(`query($t: String!, $id: String!, $at: DateTime, $seq: Int) { aggregateAt(aggregateType: $t, aggregateId: $id, at: $at, sequence: $seq) { sequence asOf state } }`,
        { t: type, id, at: instant, seq: instant ? null : trail[trail.length - 1].sequence })).aggregateAt;
      sections.push(panel(`${t("audit.state")}: ${instant ? fmt(instant) : fmt(state.asOf)} (${t("f.sequence")} ${state.sequence})`,
        h("pre", { class: "json", id: "as-of" }, JSON.stringify(state.state, null, 2))));
    }
  }
  const actorInput = h("input", { name: "actor", value: actor, size: 16 });
  sections.push(panel(t("audit.actor"), h("form", { class: "inline", id: "actor-form", onsubmit: (e) => {
    e.preventDefault();
    go("audit", "", { ...here, actor: actorInput.value.trim() });
  } }, field(t("f.actor"), actorInput), h("button", { type: "submit", class: "primary" }, t("audit.show"))),
  actor ? await actorTrail(actor) : null));
  if (may("Query.operationLog")) sections.push(await operationLogPanel(params, here));
  const afterInput = h("input", { name: "feedAfter", value: feedAfter, size: 12, placeholder: "TX:POSITION" });
  sections.push(panel(t("audit.feed"), h("form", { class: "inline", onsubmit: (e) => {
    e.preventDefault();
    go("audit", "", { ...here, feedAfter: afterInput.value.trim() });
  } }, field(t("audit.feedAfter"), afterInput), h("button", { type: "submit" }, t("audit.show"))),
  h("table", { id: "feed" }, tableHead(headers), feedBody), h("p", {}, more)));
  return sections;
}

// 操作留痕: refused operations and reads of personal data, newest first,
// filtered by actor, target, operation and kind (the last 100).
async function operationLogPanel(params, here) {
  const filter = {
    actorId: params.get("opActor") || null,
    target: params.get("opTarget") || null,
    operation: params.get("opOperation") || null,
    kind: params.get("opKind") || null,
  };
  const entries = (await gql(`query($f: OperationLogFilter!) { operationLog(filter: $f, first: 100) { entryId recordedAt kind actorId actorRole operation target code detail requestId } }`, { f: filter })).operationLog;
  const actorInput = h("input", { name: "opActor", value: filter.actorId ?? "", size: 14 });
  const targetInput = h("input", { name: "opTarget", value: filter.target ?? "", size: 20 });
  const operationInput = h("input", { name: "opOperation", value: filter.operation ?? "", size: 24 });
  const kindSelect = h("select", { name: "opKind" }, ["", "REFUSED", "PERSONAL_DATA_READ"].map((k) =>
    h("option", { value: k, selected: k === (filter.kind ?? "") }, k ? t(`oplog.${k}`) : t("f.all"))));
  const form = h("form", { class: "inline", id: "oplog-form", onsubmit: (e) => {
    e.preventDefault();
    go("audit", "", { ...here, opActor: actorInput.value.trim(), opTarget: targetInput.value.trim(), opOperation: operationInput.value.trim(), opKind: kindSelect.value });
  } }, field(t("f.actor"), actorInput), field(t("oplog.target"), targetInput), field(t("oplog.operation"), operationInput),
  field(t("oplog.kind"), kindSelect), h("button", { type: "submit", class: "primary" }, t("audit.show")));
  const rows = entries.map((e) => h("tr", { "data-kind": e.kind, "data-operation": e.operation },
    h("td", { class: "mono" }, String(e.entryId)), h("td", {}, fmt(e.recordedAt)), h("td", {}, t(`oplog.${e.kind}`)),
    h("td", {}, `${e.actorId} (${enumLabel("Role", e.actorRole)})`), h("td", { class: "mono" }, e.operation),
    h("td", { class: "mono" }, e.target), h("td", {}, e.code ?? ""), h("td", {}, e.detail)));
  return panel(t("oplog.title"), form, h("div", { id: "operation-log" }, table([t("f.position"), t("f.at"), t("oplog.kind"),
    t("f.actor"), t("oplog.operation"), t("oplog.target"), t("oplog.code"), t("oplog.detail")], rows)));
}

// What one person or system did, newest first (the last 50 events).
async function actorTrail(actorId) {
  const actions = (await gql(`query($a: String!) { actorTrail(actorId: $a, first: 50) { globalPosition recordedAt aggregateType aggregateId eventType actorId actorRole onBehalfOfId onBehalfOfRole } }`, { a: actorId })).actorTrail;
  return h("div", { id: "actor-trail" }, table([t("f.position"), t("f.at"), t("f.aggregate"), t("f.event"), t("f.actor")], actions.map((a) =>
    h("tr", { "data-event": a.eventType }, h("td", { class: "mono" }, String(a.globalPosition)), h("td", {}, fmt(a.recordedAt)),
      h("td", {}, h("a", { href: `#/audit?type=${encodeURIComponent(a.aggregateType)}&id=${encodeURIComponent(a.aggregateId)}` }, `${a.aggregateType} ${a.aggregateId.slice(0, 24)}`)),
      h("td", {}, a.eventType), h("td", {}, who(a))))));
}

// ---------------------------------------------------------------- dashboard

async function dashboardPage(_arg, params) {
  const to = params.get("to") || todayShanghai();
  const from = params.get("from") || addDays(to, -13);
  const days = (await gql(`query($from: NaiveDate!, $to: NaiveDate!) { statistics(from: $from, to: $to) { day tasksCreated passed doubtful rejected calls averageQueueSeconds averageTalkSeconds } }`,
    { from, to })).statistics;
  const byDay = Object.fromEntries(days.map((d) => [d.day, d]));
  const series = [];
  for (let day = from; day <= to && series.length < 366; day = addDays(day, 1)) {
    series.push(byDay[day] ?? { day, tasksCreated: 0, passed: 0, doubtful: 0, rejected: 0, calls: 0, averageQueueSeconds: 0, averageTalkSeconds: 0 });
  }
  const sum = (key) => series.reduce((n, d) => n + d[key], 0);
  const fromInput = h("input", { type: "date", name: "from", value: from });
  const toInput = h("input", { type: "date", name: "to", value: to });
  const form = h("form", { class: "inline", onsubmit: (e) => { e.preventDefault(); go("dashboard", "", { from: fromInput.value, to: toInput.value }); } },
    field(t("f.from"), fromInput), field(t("f.to"), toInput), h("button", { type: "submit", class: "primary" }, t("search")));
  const card = (label, value) => h("div", { class: "card" }, h("div", { class: "muted" }, label), h("div", { class: "n" }, value));
  return [
    h("h1", {}, t("dashboard.title")), panel(null, form),
    h("div", { class: "cards", id: "totals" }, card(t("s.created"), sum("tasksCreated")), card(t("s.passed"), sum("passed")), card(t("s.doubtful"), sum("doubtful")),
      card(t("s.rejected"), sum("rejected")), card(t("s.calls"), sum("calls"))),
    h("div", { class: "grid2" },
      panel(t("dashboard.outcomes"), barChart("chart-outcomes", series, [["passed", "#2f855a"], ["doubtful", "#d69e2e"], ["rejected", "#c53030"]], true)),
      panel(t("dashboard.created"), barChart("chart-created", series, [["tasksCreated", "#1d5fbf"]], false)),
      panel(t("dashboard.calls"), barChart("chart-calls", series, [["calls", "#319795"]], false)),
      panel(t("dashboard.durations"), barChart("chart-durations", series, [["averageQueueSeconds", "#805ad5"], ["averageTalkSeconds", "#dd6b20"]], false))),
  ];
}

const SERIES_LABELS = { passed: "s.passed", doubtful: "s.doubtful", rejected: "s.rejected", tasksCreated: "s.created", calls: "s.calls", averageQueueSeconds: "s.queue", averageTalkSeconds: "s.talk" };

// Bars per day as SVG: stacked when `stacked`, side by side otherwise.
function barChart(id, series, keys, stacked) {
  const width = 560, height = 220, left = 36, bottom = 28, top = 10;
  const plotH = height - bottom - top;
  const totals = series.map((d) => (stacked ? keys.reduce((n, [k]) => n + d[k], 0) : Math.max(...keys.map(([k]) => d[k]))));
  const max = Math.max(1, ...totals);
  const slot = (width - left) / Math.max(1, series.length);
  const barW = Math.max(2, (slot * 0.7) / (stacked ? 1 : keys.length));
  const y = (v) => top + plotH - (v / max) * plotH;
  const svg = h("svg", { id, width: "100%", viewBox: `0 0 ${width} ${height}`, role: "img" });
  for (const v of [0, max / 2, max]) {
    svg.append(h("line", { x1: left, x2: width, y1: y(v), y2: y(v), stroke: "#d9e2ec" }),
      h("text", { x: left - 4, y: y(v) + 4, "text-anchor": "end", "font-size": 10, fill: "#66788a" }, Number.isInteger(v) ? v : v.toFixed(1)));
  }
  series.forEach((d, i) => {
    const x0 = left + i * slot + slot * 0.15;
    let base = 0;
    keys.forEach(([key, color], k) => {
      const value = d[key];
      if (value > 0) {
        const x = stacked ? x0 : x0 + k * barW;
        const y0 = stacked ? base : 0;
        svg.append(h("rect", { x, y: y(y0 + value), width: barW, height: y(y0) - y(y0 + value), fill: color, "data-day": d.day, "data-key": key },
          h("title", {}, `${d.day} ${t(SERIES_LABELS[key])}: ${Number.isInteger(value) ? value : value.toFixed(1)}`)));
      }
      if (stacked) base += value;
    });
    if (series.length <= 16 || i % Math.ceil(series.length / 16) === 0) {
      svg.append(h("text", { x: x0 + (stacked ? barW : barW * keys.length) / 2, y: height - 10, "text-anchor": "middle", "font-size": 10, fill: "#66788a" }, d.day.slice(5)));
    }
  });
  return [svg, h("div", { class: "legend" }, keys.map(([key, color]) => h("span", {}, h("i", { style: { background: color } }), t(SERIES_LABELS[key]))))];
}

// ---------------------------------------------------------------- start

async function start() {
  $("#lang").addEventListener("click", () => {
    session.lang = session.lang === "zh" ? "en" : "zh";
    localStorage.setItem(LANG_KEY, session.lang);
    render();
  });
  $("#logout").addEventListener("click", () => logout());
  const response = await fetch("/console/labels.json");
  session.labels = await response.json();
  session.claims = session.token ? decodeClaims(session.token) : null;
  window.addEventListener("hashchange", () => {
    banner("");
    render();
  });
  await render();
}

start().catch((error) => banner(`${error.message}`));
