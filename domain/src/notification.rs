//! Texts of the messages the engine sends to customers.

use chrono::{DateTime, Utc};

use crate::schedule::{shanghai, Slot};

/// Template name of the interview notice.
pub const INTERVIEW_NOTICE: &str = "INTERVIEW_NOTICE";

/// The SMS of 001 2.9.3 (短信模板建议), sent when an appointment is booked or
/// moved, and again as a reminder before the window:
/// 尊敬的 XXX, 您于 YYYYMMDD 在我行申请的永续贷产品已进入面谈环节, 请与
/// YYYYMMDDaa: bb 至 YYYYMMDDcc: dd 期间登录【原银在线】APP 完成面谈任务或改约。
pub fn interview_notice(name: &str, applied_at: DateTime<Utc>, window: &Slot) -> String {
    let day = |t: DateTime<Utc>| t.with_timezone(&shanghai()).format("%Y%m%d").to_string();
    let minute = |t: DateTime<Utc>| {
        t.with_timezone(&shanghai())
            .format("%Y%m%d%H:%M")
            .to_string()
    };
    format!(
        "尊敬的{name}, 您于{} 在我行申请的永续贷产品已进入面谈环节, 请于{} 至{} 期间登录【原银在线】APP 完成面谈任务或改约。",
        day(applied_at),
        minute(window.start),
        minute(window.end),
    )
}

/// Template name of the repayment reminder.
pub const REPAYMENT_REMINDER: &str = "REPAYMENT_REMINDER";

/// Template name of the funds-arrived notice.
pub const DISBURSEMENT_NOTICE: &str = "DISBURSEMENT_NOTICE";

/// 003 贷后: 还款日前X天…短信平台自动推送短信给客户…提醒客户还款日、本月需还款金额.
pub fn repayment_reminder(
    name: &str,
    contract_no: &str,
    period: u32,
    due: chrono::NaiveDate,
    amount: rust_decimal::Decimal,
) -> String {
    format!(
        "尊敬的{name}, 您的贷款（合同号{contract_no}）第{period}期将于{} 到期, 本期应还{amount}元, 请于还款日前确保还款账户余额充足。",
        due.format("%Y年%m月%d日"),
    )
}

/// Template name of the prepayment debit notice.
pub const PREPAYMENT_DEBIT_NOTICE: &str = "PREPAYMENT_DEBIT_NOTICE";

/// Template name of the approval result.
pub const LOAN_APPROVAL_RESULT: &str = "LOAN_APPROVAL_RESULT";

/// 003 提前还款: 短信…提前3个工作日提示客户提前还款扣款日将自动扣款，并提示客户自动扣款金额.
pub fn prepayment_debit_notice(
    name: &str,
    contract_no: &str,
    debit_date: chrono::NaiveDate,
    amount: rust_decimal::Decimal,
) -> String {
    format!(
        "尊敬的{name}, 您的贷款（合同号{contract_no}）提前还款将于{} 自动扣款, 扣款金额{amount}元, 请于扣款日前确保还款账户余额充足。",
        debit_date.format("%Y年%m月%d日"),
    )
}

/// 003 §二(四): 个贷系统…同步发送审核结果的短信告知客户，是否审核通过 — approved
/// with the credit limit, or declined with the credit system's wording passed
/// through (如审核未通过，客户在直销前端透传个贷返回的结果).
pub fn loan_approval_result(
    name: &str,
    contract_no: &str,
    outcome: Result<Option<rust_decimal::Decimal>, &str>,
) -> String {
    match outcome {
        Ok(Some(limit)) => format!(
            "尊敬的{name}, 您的融信秒贷申请（合同号{contract_no}）已审批通过, 授信额度{limit}元, 请登录直销银行确认贷款金额并签约。"
        ),
        Ok(None) => format!(
            "尊敬的{name}, 您的融信秒贷申请（合同号{contract_no}）已审批通过, 客户经理将与您联系办理签约及放款。"
        ),
        Err(reason) => format!(
            "尊敬的{name}, 您的融信秒贷申请（合同号{contract_no}）未通过审批: {reason}"
        ),
    }
}

/// 003 放款完成: 客户资金到账同步有短信提醒.
pub fn disbursement_notice(
    name: &str,
    contract_no: &str,
    amount: rust_decimal::Decimal,
    first_due: chrono::NaiveDate,
) -> String {
    format!(
        "尊敬的{name}, 您的贷款（合同号{contract_no}）{amount}元已放款至您的账户, 首期还款日为{}。",
        first_due.format("%Y年%m月%d日"),
    )
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    /// 001_d165f826565a3102.txt 2.9.3: the reminder SMS template, in Shanghai time.
    #[test]
    fn notice_follows_the_template_of_001() {
        let applied = Utc.with_ymd_and_hms(2026, 11, 20, 16, 30, 0).unwrap(); // 21st in Shanghai
        let window = Slot {
            start: Utc.with_ymd_and_hms(2026, 11, 24, 1, 0, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2026, 11, 24, 1, 30, 0).unwrap(),
        };
        assert_eq!(
            interview_notice("邓小闲", applied, &window),
            "尊敬的邓小闲, 您于20261121 在我行申请的永续贷产品已进入面谈环节, 请于2026112409:00 至2026112409:30 期间登录【原银在线】APP 完成面谈任务或改约。"
        );
    }
}
