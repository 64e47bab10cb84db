//! Every event type in the bank's words, Chinese and English: what the
//! console's timeline, audit trail and feed show beside the stored name
//! (issue 23 item 6). The stored names stay English and stable: they are the
//! contract of the log and of the Kafka topics.

/// `(event type, 中文, English)` of every event the engine records.
pub const EVENT_LABELS: &[(&str, &str, &str)] = &[
    // 面谈任务 (001, 000)
    (
        "InterviewTaskCreated",
        "面谈任务已生成",
        "Interview task created",
    ),
    (
        "InterviewTaskCancelled",
        "面谈任务已撤销",
        "Interview task cancelled",
    ),
    (
        "InterviewTaskSuperseded",
        "面谈任务已被替代",
        "Interview task superseded",
    ),
    (
        "AppointmentRequested",
        "预约已提交",
        "Appointment requested",
    ),
    (
        "AppointmentConfirmed",
        "预约已确认",
        "Appointment confirmed",
    ),
    ("AppointmentRefused", "预约未成功", "Appointment refused"),
    ("AppointmentExpired", "预约已过期", "Appointment expired"),
    ("AppointmentBooked", "客户日程已预约", "Appointment booked"),
    (
        "AppointmentReleased",
        "客户日程已释放",
        "Appointment released",
    ),
    ("InterviewStarted", "面谈已开始", "Interview started"),
    ("InterviewPutBack", "任务已放回", "Task put back"),
    (
        "InterviewConcluded",
        "面谈结论已提交",
        "Interview concluded",
    ),
    ("QcPassed", "质检通过", "QC passed"),
    ("QcRejected", "质检拒件", "QC rejected"),
    (
        "FieldInvestigationRecorded",
        "现调已上传",
        "Field investigation recorded",
    ),
    ("IdentityChecked", "客户核身已完成", "Identity checked"),
    (
        "VideoWitnessRecorded",
        "视频见证已录制",
        "Video witness recorded",
    ),
    ("VideoTagged", "视频已打标签", "Video tagged"),
    ("InfoEntryRecorded", "信息已录入", "Information entered"),
    ("SnapshotCaptured", "已抓拍照片", "Snapshot captured"),
    ("DocumentPushed", "确认书已推送", "Document pushed"),
    ("DocumentSigned", "确认书已签署", "Document signed"),
    ("ChatMessageSent", "文字对话", "Chat message"),
    ("RemarkAdded", "已添加备注", "Remark added"),
    (
        "LoanInfoEdited",
        "贷款信息已修改",
        "Loan information edited",
    ),
    (
        "ParticipantJoined",
        "干系人已进入面谈",
        "Participant joined",
    ),
    ("ParticipantLeft", "干系人已离开面谈", "Participant left"),
    ("CallEnded", "通话已结束", "Call ended"),
    // 坐席 (001 2.4.5–2.4.6, 004 3.1)
    ("SeatRegistered", "坐席已登记", "Seat registered"),
    ("WorkingHoursSet", "工作时间已设置", "Working hours set"),
    ("SeatEnabled", "坐席已启用", "Seat enabled"),
    ("SeatDisabled", "坐席已停用", "Seat disabled"),
    ("SlotBooked", "坐席时段已预约", "Slot booked"),
    ("SlotReleased", "坐席时段已释放", "Slot released"),
    ("SeatSignedIn", "坐席已签入", "Seat signed in"),
    ("SeatSignedOut", "坐席已签出", "Seat signed out"),
    ("PresenceChanged", "坐席状态已变更", "Presence changed"),
    ("CallOffered", "来电已分配", "Call offered"),
    ("CallTaken", "来电已接听", "Call taken"),
    (
        "CallOfferWithdrawn",
        "来电分配已撤回",
        "Call offer withdrawn",
    ),
    // 呼入与排队 (001 2.2.2, 2.4.4; 004 3.6)
    ("CallRefused", "呼入未准入", "Call refused"),
    ("CallQueued", "已进入排队", "Call queued"),
    ("CallDispatched", "已分配坐席", "Call dispatched"),
    ("CallTransferred", "已转出", "Call transferred"),
    ("CallOfferUnanswered", "坐席未接听", "Offer unanswered"),
    ("CallAnswered", "坐席已接通", "Call answered"),
    ("CallCancelled", "已取消排队", "Call cancelled"),
    (
        "DispatchRuleConfigured",
        "分案规则已设置",
        "Dispatch rule configured",
    ),
    // 渠道、话术、营销、客服组、账号 (001 2.4.7–2.4.8, 004 3.17–3.18)
    ("ChannelCreated", "渠道已新增", "Channel created"),
    ("ChannelEdited", "渠道已修改", "Channel edited"),
    ("ChannelEnabled", "渠道已启用", "Channel enabled"),
    ("ChannelDisabled", "渠道已停用", "Channel disabled"),
    ("ChannelDeleted", "渠道已删除", "Channel deleted"),
    ("ScriptAdded", "话术已新增", "Script added"),
    ("ScriptEdited", "话术已修改", "Script edited"),
    ("ScriptRemoved", "话术已删除", "Script removed"),
    (
        "DefaultScriptChosen",
        "默认话术已设置",
        "Default script chosen",
    ),
    ("MediaCreated", "营销素材已新增", "Media created"),
    ("MediaEdited", "营销素材已修改", "Media edited"),
    ("MediaEnabled", "营销素材已启用", "Media enabled"),
    ("MediaDisabled", "营销素材已停用", "Media disabled"),
    ("MediaDeleted", "营销素材已删除", "Media deleted"),
    ("SeatGroupCreated", "客服组已新增", "Seat group created"),
    ("SeatGroupEdited", "客服组已修改", "Seat group edited"),
    ("SeatGroupDeleted", "客服组已删除", "Seat group deleted"),
    (
        "ChangeProposed",
        "配置变更已提议",
        "Configuration change proposed",
    ),
    (
        "ChangeApproved",
        "配置变更已复核通过",
        "Configuration change approved",
    ),
    (
        "ChangeWithdrawn",
        "配置变更已撤回",
        "Configuration change withdrawn",
    ),
    (
        "ChangeApplied",
        "配置变更已生效",
        "Configuration change applied",
    ),
    (
        "ChangeFailed",
        "配置变更执行失败",
        "Configuration change failed",
    ),
    ("AccountCreated", "账号已新增", "Account created"),
    ("AccountEdited", "账号已修改", "Account edited"),
    ("AccountEnabled", "账号已启用", "Account enabled"),
    ("AccountDisabled", "账号已停用", "Account disabled"),
    ("AccountDeleted", "账号已删除", "Account deleted"),
    (
        "AccountKicked",
        "账号已强制下线",
        "Account signed out by force",
    ),
    // 工单 (004 3.3–3.5)
    ("WorkOrderCreated", "工单已创建", "Work order created"),
    ("WorkOrderEdited", "工单已保存", "Work order edited"),
    ("WorkOrderRemarked", "工单已备注", "Work order remarked"),
    ("WorkOrderStarted", "工单处理中", "Work order started"),
    ("WorkOrderCompleted", "工单已处理", "Work order completed"),
    ("WorkOrderCancelled", "工单已撤销", "Work order cancelled"),
    ("GuideSmsRequested", "引导短信已发送", "Guide SMS requested"),
    // 质检 (001 2.4.3)
    ("QcCaseOpened", "质检任务已生成", "QC case opened"),
    ("QcCaseClaimed", "质检任务已领取", "QC case claimed"),
    ("QcCaseReleased", "质检任务已退回", "QC case released"),
    ("QcCaseDecided", "质检已审核", "QC case decided"),
    // 贷款 (003)
    ("LoanSubmitted", "贷款申请已提交", "Loan submitted"),
    ("LoanAdvanced", "贷款流程已推进", "Loan advanced"),
    ("LoanRolledBack", "贷款流程已回退", "Loan rolled back"),
    ("LoanResubmitted", "贷款申请已重新提交", "Loan resubmitted"),
    (
        "InterviewTaskAttached",
        "已关联面谈任务",
        "Interview task attached",
    ),
    ("InterviewPassed", "面谈已通过", "Interview passed"),
    ("WhitelistChecked", "白名单已核验", "Whitelist checked"),
    ("FaceChecked", "人脸识别已完成", "Face checked"),
    ("ApprovalRequested", "已提交审批", "Approval requested"),
    ("LoanApproved", "贷款已审批通过", "Loan approved"),
    ("LoanDeclined", "贷款已拒绝", "Loan declined"),
    ("ContractSigned", "借款合同已签署", "Contract signed"),
    (
        "LoanDocumentAccepted",
        "客户已签署授权书/声明书",
        "Document accepted",
    ),
    (
        "CustomerVerified",
        "短信验证码及交易密码已校验",
        "Customer verified",
    ),
    (
        "LoanAmountChosen",
        "客户已确定贷款额度",
        "Loan amount chosen",
    ),
    ("SigningRateSet", "最终签约利率已确定", "Signing rate set"),
    (
        "PrepaymentDebitNoticeDue",
        "提前还款扣款提示",
        "Prepayment debit notice due",
    ),
    (
        "ManualCaseOpened",
        "核心超时未应答，转人工落地",
        "Manual case opened",
    ),
    (
        "LoanInfoReviewed",
        "坐席已核对贷款信息",
        "Loan information reviewed",
    ),
    (
        "ContractDownloadRequested",
        "已申请下载电子合同",
        "Contract download requested",
    ),
    (
        "ContractDelivered",
        "电子合同邮件已发送",
        "Contract delivered",
    ),
    (
        "ContractDeliveryFailed",
        "电子合同邮件发送失败",
        "Contract delivery failed",
    ),
    (
        "LoanInfoConfirmed",
        "坐席已确认贷款信息",
        "Loan information confirmed",
    ),
    (
        "ManualCaseResolved",
        "人工落地已处理",
        "Manual case resolved",
    ),
    ("DisbursementRequested", "放款中", "Disbursement requested"),
    ("DisbursementFailed", "放款失败", "Disbursement failed"),
    ("LoanDisbursed", "已放款", "Loan disbursed"),
    ("RepaymentRequested", "还款已发起", "Repayment requested"),
    ("RepaymentReceived", "还款已入账", "Repayment received"),
    ("AutoDebitFailed", "自动扣款失败", "Auto-debit failed"),
    ("InstallmentOverdue", "当期已逾期", "Installment overdue"),
    ("RepaymentReminderDue", "还款提醒", "Repayment reminder due"),
    (
        "PrepaymentRequested",
        "提前还款已申请",
        "Prepayment requested",
    ),
    (
        "PrepaymentApproved",
        "提前还款已同意",
        "Prepayment approved",
    ),
    ("PrepaymentRefused", "提前还款已拒绝", "Prepayment refused"),
    ("PlanRecalculated", "还款计划已重算", "Plan recalculated"),
    ("LoanSettled", "贷款已结清", "Loan settled"),
    // 合作方订单与回调 (002)
    ("OrderPushed", "订单已推送", "Order pushed"),
    ("OrderParsed", "订单已解析", "Order parsed"),
    (
        "OperatorDataPulled",
        "运营商数据已拉取",
        "Operator data pulled",
    ),
    ("CreditRequested", "授信中", "Credit requested"),
    ("CreditApproved", "授信通过", "Credit approved"),
    ("CreditRefused", "授信拒绝", "Credit refused"),
    ("CardBound", "银行卡已绑定", "Card bound"),
    ("AccountOpened", "账户已开立", "Account opened"),
    ("BorrowConfirmed", "借款已确认", "Borrow confirmed"),
    ("BorrowDeferred", "借款待开户", "Borrow deferred"),
    (
        "BorrowAuditRejected",
        "人工复审拒绝",
        "Borrow audit rejected",
    ),
    ("BorrowDisbursed", "借款已放款", "Borrow disbursed"),
    ("CallbackScheduled", "回调已排期", "Callback scheduled"),
    ("CallbackDelivered", "回调已送达", "Callback delivered"),
    (
        "CallbackAttemptFailed",
        "回调失败，待重试",
        "Callback attempt failed",
    ),
    ("CallbackFailed", "回调失败", "Callback failed"),
    ("CallbackRetried", "回调已重发", "Callback retried"),
];

/// The Chinese and English names of `event_type`, when it is one of the engine's.
pub fn event_label(event_type: &str) -> Option<(&'static str, &'static str)> {
    EVENT_LABELS
        .iter()
        .find(|(name, _, _)| *name == event_type)
        .map(|(_, zh, en)| (*zh, *en))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every event type of every aggregate (from the one list,
    /// `for_each_aggregate!`, through the contracts) has a label, once: a new
    /// event fails here until it is named in the bank's words.
    #[test]
    fn every_event_type_has_one_label() {
        let mut names: Vec<&str> = EVENT_LABELS.iter().map(|(n, _, _)| *n).collect();
        names.sort();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "an event type is labelled twice");
        let contracts = crate::contracts::event_contracts();
        assert!(
            contracts.len() > 100,
            "{} event types found",
            contracts.len()
        );
        for contract in contracts {
            assert!(
                event_label(&contract.event_type).is_some(),
                "{} of {} has no label in event_labels.rs",
                contract.event_type,
                contract.aggregate_type
            );
        }
        assert_eq!(
            event_label("AppointmentConfirmed"),
            Some(("预约已确认", "Appointment confirmed"))
        );
    }
}
