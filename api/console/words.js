// Words of the console in Chinese (the default, 001/004) and English; task
// statuses and reject reasons come from the server in the domain's wording.

import { session } from "./session.js";

const WORDS = {
  zh: {
    "nav.board": "任务看板", "nav.calendar": "坐席日历", "nav.qc": "质检队列", "nav.incidents": "异常回调",
    "nav.admin": "系统管理", "nav.audit": "审计", "nav.dashboard": "统计看板", "nav.lineage": "合同链路",
    "nav.manual": "人工落地",
    "manual.title": "人工落地（核心系统超时未应答）", "manual.help": "核心系统在设定时间内未应答的放款、还款请求转为人工处理：向核心系统核实后，录入其应答与凭证号，贷款据此继续。",
    "manual.OPEN": "待处理", "manual.RESOLVED": "已处理", "manual.DISBURSEMENT": "放款", "manual.REPAYMENT": "还款",
    "manual.PAID": "已放款", "manual.FAILED": "放款失败", "manual.RECEIVED": "已扣款", "manual.DEBIT_FAILED": "扣款失败", "manual.ANSWERED_BY_CORE": "核心系统已应答",
    "manual.loan": "贷款", "manual.kind": "类型", "manual.request": "请求号", "manual.amount": "金额", "manual.requestedAt": "请求时间",
    "manual.waited": "已等待", "manual.outcome": "核心应答", "manual.coreReference": "核心凭证号", "manual.day": "日期", "manual.note": "处理说明",
    "manual.resolve": "录入应答",
    logout: "退出", login: "登录", "login.title": "登录 facesign 控制台",
    "login.help": "粘贴您的访问令牌（Bearer token）。开发环境可用 `facesign token --role SEAT --sub S1` 生成。",
    "login.token": "访问令牌", "login.expired": "令牌已过期或无效，请重新登录。",
    "login.provider": "通过行内统一身份认证登录",
    "login.providerHelp": "将跳转到银行的身份认证服务登录，登录后返回本控制台。",
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
    "f.maritalStatus": "婚姻状况", "f.relation": "与借款人关系", "f.property": "房产位置",
    "f.province": "省", "f.city": "市", "f.district": "区县", "f.address": "详细地址",
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
    "task.room": "面谈室（多席呼入）", "task.roomPresent": "在场", "task.roomLeft": "已离开", "task.roomRejoined": "重新接入",
    "task.roomRejoinUntil": "可重新接入至", "task.legs": "各方通话",
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
    "parked.title": "暂存事件（工作进程无法处理）", "parked.help": "工作进程多次处理失败的事件会被暂存，其后的事件照常处理；运维人员修复后用 facesign parked retry 重试，或以 facesign parked skip 说明原因后跳过。", "parked.none": "没有暂存的事件。", "f.worker": "工作进程", "incidents.title": "异常回调（失败的回调）", "incidents.help": "回调多次失败后成为异常；修复对方系统后可重试。",
    "admin.title": "系统管理", "admin.channels": "渠道", "admin.scripts": "话术", "admin.media": "营销视频", "admin.accounts": "账号",
    "admin.makeDefault": "设为默认", "admin.changes": "变更复核",
    "fourEyes.proposed": "已提交变更提议，另一位管理员复核通过后生效。", "fourEyes.approve": "复核通过", "fourEyes.withdraw": "撤回",
    "f.operation": "操作", "f.proposedBy": "提议人", "f.approvedBy": "复核人", "f.document": "变更内容",
    "login.stepUp": "此操作需要多因素登录，请以多因素认证取得的令牌重新登录。",
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
    "nav.manual": "Manual cases",
    "manual.title": "Manual cases (the core did not answer)", "manual.help": "A disbursement or repayment the core left unanswered past the timeout is handled by a person: check with the core, then record its answer and voucher; the loan goes on from there.",
    "manual.OPEN": "Open", "manual.RESOLVED": "Resolved", "manual.DISBURSEMENT": "Disbursement", "manual.REPAYMENT": "Repayment",
    "manual.PAID": "Paid out", "manual.FAILED": "Failed", "manual.RECEIVED": "Received", "manual.DEBIT_FAILED": "Debit failed", "manual.ANSWERED_BY_CORE": "Answered by the core",
    "manual.loan": "Loan", "manual.kind": "Kind", "manual.request": "Request", "manual.amount": "Amount", "manual.requestedAt": "Requested",
    "manual.waited": "Waited", "manual.outcome": "Core's answer", "manual.coreReference": "Core voucher", "manual.day": "Day", "manual.note": "Note",
    "manual.resolve": "Record answer",
    logout: "Log out", login: "Log in", "login.title": "Log in to the facesign console",
    "login.help": "Paste your bearer token. In development, `facesign token --role SEAT --sub S1` mints one.",
    "login.token": "Bearer token", "login.expired": "The token is invalid or expired; log in again.",
    "login.provider": "Sign in with the bank's identity provider",
    "login.providerHelp": "You sign in at the bank's identity provider and come back to this console.",
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
    "f.maritalStatus": "Marital status", "f.relation": "Relation to borrower", "f.property": "Property",
    "f.province": "Province", "f.city": "City", "f.district": "District", "f.address": "Address",
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
    "task.room": "Interview room (several callers)", "task.roomPresent": "in", "task.roomLeft": "left", "task.roomRejoined": "rejoined",
    "task.roomRejoinUntil": "may rejoin until", "task.legs": "Legs",
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
    "parked.title": "Parked events (a worker could not apply them)", "parked.help": "An event a worker kept failing on is parked and the events after it go on; an operator retries it with facesign parked retry once fixed, or skips it with a reason (facesign parked skip).", "parked.none": "No parked events.", "f.worker": "Worker", "incidents.title": "Incidents (failed callbacks)", "incidents.help": "A callback that kept failing becomes an incident; retry once the partner is fixed.",
    "admin.title": "Administration", "admin.channels": "Channels", "admin.scripts": "Scripts", "admin.media": "Media", "admin.accounts": "Accounts",
    "admin.makeDefault": "Make default", "admin.changes": "Change review",
    "fourEyes.proposed": "The change was proposed; it takes effect once a second admin approves it.", "fourEyes.approve": "Approve", "fourEyes.withdraw": "Withdraw",
    "f.operation": "Operation", "f.proposedBy": "Proposed by", "f.approvedBy": "Approved by", "f.document": "Change",
    "login.stepUp": "This needs a multi-factor login; log in again with a token from a multi-factor sign-in.",
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
    MaritalStatus: { UNMARRIED: "未婚", MARRIED: "已婚", DIVORCED: "离异", WIDOWED: "丧偶" },
    ParticipantRole: { BORROWER: "借款人", CO_BORROWER: "共同借款人", CO_OWNER: "共有人", SPOUSE: "配偶", GUARANTOR: "担保人" },
    TaskStep: { FIELD_INVESTIGATION: "现调", IDENTITY_CHECK: "客户核身", VIDEO_WITNESS: "视频见证", INFO_ENTRY: "信息录入" },
    QcOrigin: { DOUBTFUL: "存疑", SAMPLED_PASS: "抽样检查" },
    QcStatus: { OPEN: "待领取", CLAIMED: "审核中", DECIDED: "已审核" },
    CallbackStatus: { PENDING: "待发送", DELIVERED: "已送达", FAILED: "失败" },
    Outcome: { PASS: "通过", DOUBTFUL: "存疑" },
    ChangeStatus: { PROPOSED: "待复核", APPROVED: "已复核", WITHDRAWN: "已撤回", APPLIED: "已生效", FAILED: "执行失败", EXPIRED: "已过期" },
    CallEnd: { NORMAL: "正常完成", ABNORMAL_NETWORK: "非正常完成（网络问题）", ABNORMAL_USER: "非正常完成（用户问题）", ABNORMAL_OTHER: "非正常完成（其他）" },
    ChatSender: { SEAT: "坐席", CUSTOMER: "客户" },
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
    ChangeStatus: { PROPOSED: "Awaiting approval", APPROVED: "Approved", WITHDRAWN: "Withdrawn", APPLIED: "In effect", FAILED: "Failed", EXPIRED: "Expired" },
    TaskStatusEn: { PENDING: "Pending", IN_PROGRESS: "In progress", PENDING_QC: "Doubtful (awaiting QC)", PASSED: "Passed",
      REJECTED: "Rejected", EXPIRED: "Expired", CANCELLED: "Cancelled", SUPERSEDED: "Superseded" },
    TaskKind: { YONGXU_VIDEO_INTERVIEW: "Yongxu video interview", YUNDAI_DIRECT: "Yundai direct", YUNDAI_INDIRECT: "Yundai indirect", YUNCE: "Yunce" },
    MaritalStatus: { UNMARRIED: "Unmarried", MARRIED: "Married", DIVORCED: "Divorced", WIDOWED: "Widowed" },
    ParticipantRole: { BORROWER: "Borrower", CO_BORROWER: "Co-borrower", CO_OWNER: "Co-owner", SPOUSE: "Spouse", GUARANTOR: "Guarantor" },
    TaskStep: { FIELD_INVESTIGATION: "Field investigation", IDENTITY_CHECK: "Identity check", VIDEO_WITNESS: "Video witness", INFO_ENTRY: "Info entry" },
    QcOrigin: { DOUBTFUL: "Doubtful", SAMPLED_PASS: "Sampled pass" },
    QcStatus: { OPEN: "Open", CLAIMED: "Claimed", DECIDED: "Decided" },
    CallbackStatus: { PENDING: "Pending", DELIVERED: "Delivered", FAILED: "Failed" },
    Outcome: { PASS: "Pass", DOUBTFUL: "Doubtful" },
    CallEnd: { NORMAL: "Normal", ABNORMAL_NETWORK: "Abnormal (network)", ABNORMAL_USER: "Abnormal (user)", ABNORMAL_OTHER: "Abnormal (other)" },
    ChatSender: { SEAT: "Seat", CUSTOMER: "Customer" },
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

// An event type in the bank's words (from /console/labels.json), in the
// console's language; the stored name when it has none.
function eventLabel(type) {
  const label = session.labels?.eventTypes?.[type];
  if (!label) return type;
  return session.lang === "en" ? label.en : label.zh;
}

export { WORDS, ENUMS, t, enumLabel, statusLabel, reasonLabel, eventLabel };
