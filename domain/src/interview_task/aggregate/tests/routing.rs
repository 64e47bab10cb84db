//! 省内/省外 and what a task carries about the case (001 2.3.1, 2.5).

use super::*;
use crate::interview_task::{MaritalStatus, PropertyLocation};
use crate::services::InterviewRouting;

fn located(province: &str) -> InterviewTaskCommand {
    let mut command = create(TaskKind::YongxuVideoInterview);
    if let InterviewTaskCommand::Create(c) = &mut command {
        c.property_location = Some(Box::new(PropertyLocation {
            province: format!(" {province} "),
            city: "杭州市".into(),
            district: "西湖区".into(),
            address: Some("  ".into()),
        }));
        c.participants[0].marital_status = Some(MaritalStatus::Married);
        c.participants[0].relation_to_borrower = Some("本人".into());
    }
    command
}

fn in_henan() -> DomainServices {
    services().with_routing(InterviewRouting {
        home_province: Some("河南省".into()),
    })
}

/// 001_d165f826565a3102.txt 2.5.1: 通过客户房屋属地，判断客户个案省内/省外归属。省内流程不做改动
/// — 河南 is 河南省 (suffixes aside); a 省内 case gets no interview task.
#[test]
fn an_in_province_case_gets_no_interview_task() {
    TaskTest::with(in_henan())
        .given_no_previous_events()
        .when(located("河南"))
        .then_expect_error(InterviewTaskError::InProvince {
            province: "河南".into(),
        });
    let created = TaskTest::with(in_henan())
        .given_no_previous_events()
        .when(located("浙江省"))
        .inspect_result()
        .unwrap();
    let [InterviewTaskEvent::InterviewTaskCreated(c)] = &created[..] else {
        panic!("{created:?}");
    };
    assert_eq!(
        c.property_location.as_deref(),
        Some(&PropertyLocation {
            province: "浙江省".into(),
            city: "杭州市".into(),
            district: "西湖区".into(),
            address: None,
        }),
        "trimmed; a blank address is none"
    );
    assert_eq!(
        c.participants[0].marital_status,
        Some(MaritalStatus::Married)
    );
    assert_eq!(
        c.participants[0].relation_to_borrower, None,
        "the main borrower is the reference of every relation"
    );
    // Without a home province every case is interviewed.
    let unrouted = TaskTest::with(services())
        .given_no_previous_events()
        .when(located("河南省"))
        .inspect_result();
    assert!(matches!(
        unrouted.as_deref(),
        Ok([InterviewTaskEvent::InterviewTaskCreated(_)])
    ));
}

#[test]
fn provinces_compare_without_their_suffix() {
    let routing = InterviewRouting {
        home_province: Some("广西壮族自治区".into()),
    };
    assert!(!routing.interviews("广西"));
    assert!(routing.interviews("广东省"));
    assert!(InterviewRouting::default().interviews("广西"));
}
