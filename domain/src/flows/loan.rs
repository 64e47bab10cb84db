//! The loan flow (001 逆向业务操作, 003): reaching 面谈 opens the interview
//! task; a roll-back to or past 面谈 supersedes the current task and opens its
//! successor with the same participants, linked both ways (既往数据落库存档备调);
//! a passed task tells the loan; QC rejecting a sampled pass rolls the loan
//! back past 面谈.

use super::{Body, Effect, Facts, Flow, FlowEvent, Need, Order, Text};
use crate::interview_task::session::SessionEvent;
use crate::interview_task::{
    CreateInterviewTask, InterviewOutcome, InterviewTaskCommand, InterviewTaskEvent,
    ParticipantInput, TaskLineage,
};
use crate::loan_application::{LoanApplication, LoanCommand, LoanEvent, Node};
use crate::services::derived_id;

/// Drives interview tasks from loan transitions and back.
#[derive(Debug, Default, Clone, Copy)]
pub struct LoanFlow;

/// The commands that open `task_id` for `loan` with `lineage`.
fn open_task(
    loan_id: &str,
    loan: &LoanApplication,
    task_id: String,
    lineage: TaskLineage,
) -> Vec<Effect> {
    let (product, channel, manager) = loan.product_channel_manager();
    let participants = loan
        .participants()
        .iter()
        .map(|p| ParticipantInput {
            name: p.name.clone(),
            id_type: p.id_type,
            id_number: p.id_number.clone(),
            phone: p.phone.clone(),
            roles: p.roles.iter().copied().collect(),
            marital_status: p.marital_status,
            relation_to_borrower: p.relation_to_borrower.clone(),
        })
        .collect();
    vec![
        Effect::send(Order::Task(
            task_id.clone(),
            InterviewTaskCommand::Create(CreateInterviewTask {
                task_id: task_id.clone(),
                contract_no: loan.contract_no().to_string(),
                kind: loan.task_kind(),
                product_code: product.to_string(),
                channel_code: channel.to_string(),
                manager_id: manager.to_string(),
                participants,
                lineage: Some(lineage),
                property_location: loan.property_location().cloned().map(Box::new),
                loan_info: loan_info(loan),
            }),
        )),
        Effect::send(Order::Loan(
            loan_id.to_string(),
            LoanCommand::AttachInterviewTask { task_id },
        )),
    ]
}

/// The figures the loan was applied for, shown to the seat (001 §2.3.1.1 item 14).
fn loan_info(loan: &LoanApplication) -> Option<Box<crate::interview_task::LoanInfo>> {
    let (amount, term_months, purpose) = loan.applied_figures();
    let info = crate::interview_task::LoanInfo {
        amount: (amount > rust_decimal::Decimal::ZERO).then(|| amount.to_string()),
        term_months,
        purpose: purpose.map(str::to_string),
        ..Default::default()
    };
    (!info.is_empty()).then(|| Box::new(info))
}

/// Texts the loan's borrower (once per `dedup_key`, through the SMS outbox).
fn text_borrower(
    loan: Option<&LoanApplication>,
    dedup_key: String,
    loan_id: &str,
    template: &str,
    body: impl Fn(&str, &str) -> String,
) -> Vec<Effect> {
    let Some(loan) = loan else {
        return Vec::new();
    };
    // A partner loan's texts are signed by the partner (its code is the loan's channel).
    let sender = (loan.product() == crate::loan_application::Product::Partner)
        .then(|| loan.product_channel_manager().1.to_string());
    loan.participants()
        .iter()
        .filter(|p| {
            p.roles
                .contains(&crate::interview_task::ParticipantRole::Borrower)
        })
        .map(|p| {
            Effect::Text(Text {
                dedup_key: format!("{dedup_key}:{}", p.phone),
                subject_id: loan_id.to_string(),
                phone: p.phone.clone(),
                template: template.to_string(),
                body: body(&p.name, loan.contract_no()),
                sender: sender.clone(),
            })
        })
        .collect()
}

/// Whether a task event concerns its loan: a pass, a QC reject of a sampled
/// pass, or the seat's review of the loan figures.
fn concerns_loan(event: &InterviewTaskEvent) -> bool {
    matches!(
        event,
        InterviewTaskEvent::Session(
            SessionEvent::LoanInfoEdited { .. } | SessionEvent::LoanInfoConfirmed { .. }
        ) | InterviewTaskEvent::InterviewConcluded {
            outcome: InterviewOutcome::Pass,
            ..
        } | InterviewTaskEvent::QcPassed { .. }
            | InterviewTaskEvent::QcRejected {
                rollback_loan: true,
                ..
            }
    )
}

impl Flow for LoanFlow {
    fn name(&self) -> &'static str {
        "loan_flow"
    }

    fn needs(&self, event: &FlowEvent) -> Vec<Need> {
        match &event.body {
            Body::Loan(LoanEvent::LoanAdvanced {
                to: Node::Interview,
                ..
            })
            | Body::Loan(LoanEvent::LoanRolledBack { .. })
            | Body::Loan(LoanEvent::RepaymentReminderDue { .. })
            | Body::Loan(LoanEvent::PrepaymentDebitNoticeDue { .. })
            | Body::Loan(LoanEvent::LoanApproved { .. })
            | Body::Loan(LoanEvent::LoanDeclined { .. })
            | Body::Loan(LoanEvent::LoanDisbursed {
                disbursement: Some(_),
                ..
            }) => {
                vec![Need::Loan(event.aggregate_id.clone())]
            }
            Body::Task(task_event) if concerns_loan(task_event) => {
                vec![Need::Task(event.aggregate_id.clone())]
            }
            _ => Vec::new(),
        }
    }

    fn react(&self, event: &FlowEvent, facts: &Facts) -> Vec<Effect> {
        let loan_id = &event.aggregate_id;
        // Derived from the loan event: a redelivery opens the same task, not a second.
        let task_id = || derived_id(&format!("{loan_id}:{}", event.sequence)).to_string();
        match &event.body {
            Body::Loan(LoanEvent::LoanAdvanced {
                from,
                to: Node::Interview,
            }) => {
                let Some(loan) = facts.loans.get(loan_id) else {
                    return Vec::new();
                };
                if loan.interview_task().is_some() {
                    return Vec::new(); // back at 面谈 after a roll-back: its task exists
                }
                let lineage = TaskLineage {
                    loan_id: loan_id.clone(),
                    supersedes: None,
                    transition: format!("{}→{}", from.label_zh(), Node::Interview.label_zh()),
                    reason: None,
                    actor_id: event.actor.id.clone(),
                    actor_role: event.actor.role.clone(),
                };
                open_task(loan_id, loan, task_id(), lineage)
            }
            Body::Loan(LoanEvent::LoanRolledBack {
                from,
                to,
                reason,
                interview_task,
            }) if *to <= Node::Interview && *from >= Node::Interview => {
                let Some(loan) = facts.loans.get(loan_id) else {
                    return Vec::new();
                };
                let transition = format!("{}→{}", from.label_zh(), to.label_zh());
                let successor = task_id();
                let mut effects = Vec::new();
                if let Some(old) = interview_task {
                    effects.push(Effect::send(Order::Task(
                        old.clone(),
                        InterviewTaskCommand::Supersede {
                            successor_id: successor.clone(),
                            transition: transition.clone(),
                            reason: reason.clone(),
                        },
                    )));
                }
                let lineage = TaskLineage {
                    loan_id: loan_id.clone(),
                    supersedes: interview_task.clone(),
                    transition,
                    reason: Some(reason.clone()),
                    actor_id: event.actor.id.clone(),
                    actor_role: event.actor.role.clone(),
                };
                effects.extend(open_task(loan_id, loan, successor, lineage));
                effects
            }
            Body::Loan(LoanEvent::RepaymentReminderDue {
                period,
                due_date,
                amount,
            }) => text_borrower(
                facts.loans.get(loan_id),
                format!("repayment-reminder:{loan_id}:{period}:{due_date}"),
                loan_id,
                crate::notification::REPAYMENT_REMINDER,
                |name, contract| {
                    crate::notification::repayment_reminder(
                        name, contract, *period, *due_date, *amount,
                    )
                },
            ),
            Body::Loan(LoanEvent::PrepaymentDebitNoticeDue {
                prepayment_id,
                debit_date,
                amount,
            }) => text_borrower(
                facts.loans.get(loan_id),
                format!("prepayment-debit:{loan_id}:{prepayment_id}"),
                loan_id,
                crate::notification::PREPAYMENT_DEBIT_NOTICE,
                |name, contract| {
                    crate::notification::prepayment_debit_notice(
                        name,
                        contract,
                        *debit_date,
                        *amount,
                    )
                },
            ),
            // 003 §二(四): the approval result by SMS, for the online product.
            Body::Loan(
                result @ (LoanEvent::LoanApproved { .. } | LoanEvent::LoanDeclined { .. }),
            ) => {
                let loan = facts
                    .loans
                    .get(loan_id)
                    .filter(|l| l.product() == crate::loan_application::Product::RongxinMiaodai);
                text_borrower(
                    loan,
                    format!("approval-result:{loan_id}:{}", event.sequence),
                    loan_id,
                    crate::notification::LOAN_APPROVAL_RESULT,
                    |name, contract| {
                        let outcome = match result {
                            // Online the customer goes on in 直销银行; a manager's
                            // approval goes on offline.
                            LoanEvent::LoanApproved {
                                credit_limit,
                                route: crate::loan_application::ApprovalRoute::Automatic,
                                ..
                            } => Ok(*credit_limit),
                            LoanEvent::LoanApproved { .. } => Ok(None),
                            LoanEvent::LoanDeclined { reason } => Err(reason.as_str()),
                            _ => unreachable!("matched above"),
                        };
                        crate::notification::loan_approval_result(name, contract, outcome)
                    },
                )
            }
            Body::Loan(LoanEvent::LoanDisbursed {
                disbursement: Some(d),
                ..
            }) => text_borrower(
                facts.loans.get(loan_id),
                format!("disbursed:{loan_id}:{}", d.request_id),
                loan_id,
                crate::notification::DISBURSEMENT_NOTICE,
                |name, contract| {
                    let first = d.plan.first().map(|p| p.due_date).unwrap_or(d.value_date);
                    crate::notification::disbursement_notice(name, contract, d.amount, first)
                },
            ),
            Body::Task(task_event) if concerns_loan(task_event) => {
                let Some(loan_id) = facts
                    .tasks
                    .get(&event.aggregate_id)
                    .and_then(|task| task.loan_id())
                else {
                    return Vec::new(); // a task no loan flow opened
                };
                let review = |corrected: bool, info: &crate::interview_task::LoanInfo| {
                    LoanCommand::RecordSeatLoanInfoReview {
                        review_id: format!("{}:{}", event.aggregate_id, event.sequence),
                        task_id: event.aggregate_id.clone(),
                        seat_id: event.actor.id.clone(),
                        corrected,
                        info: Box::new(info.clone()),
                    }
                };
                let command = match task_event {
                    InterviewTaskEvent::Session(SessionEvent::LoanInfoEdited { after, .. }) => {
                        review(true, after)
                    }
                    InterviewTaskEvent::Session(SessionEvent::LoanInfoConfirmed { info }) => {
                        review(false, info)
                    }
                    InterviewTaskEvent::QcRejected { reasons, .. } => LoanCommand::RollBack {
                        to: Node::Interview,
                        reason: format!("质检拒件（抽样通过）: {}", reasons.join(", ")),
                    },
                    _ => LoanCommand::RecordInterviewPassed {
                        task_id: event.aggregate_id.clone(),
                    },
                };
                vec![Effect::send(Order::Loan(loan_id.to_string(), command))]
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::super::testing::{event, facts, rebuilt};
    use super::*;
    use crate::interview_task::{IdType, Participant, ParticipantRole, TaskKind};
    use crate::loan_application::Product;

    fn loan(task: Option<&str>) -> LoanApplication {
        loan_of(Product::Yongxu, "YYZX", task)
    }

    fn loan_of(product: Product, channel: &str, task: Option<&str>) -> LoanApplication {
        let mut events = loan_events(product, channel);
        if let Some(task) = task {
            events.push(LoanEvent::InterviewTaskAttached {
                task_id: task.into(),
            });
        }
        rebuilt(events)
    }

    fn loan_events(product: Product, channel: &str) -> Vec<LoanEvent> {
        vec![LoanEvent::LoanSubmitted {
            product,
            contract_no: "HT-9".into(),
            amount: Some(Decimal::new(50_000_000, 2)),
            term_months: None,
            purpose: None,
            branch: None,
            task_kind: TaskKind::YongxuVideoInterview,
            product_code: "YXD".into(),
            channel_code: channel.into(),
            manager_id: "M1".into(),
            participants: vec![Participant {
                name: "邓小闲".into(),
                id_type: IdType::IdCard,
                id_number: "410102198503121017".into(),
                phone: "15618293093".into(),
                roles: [ParticipantRole::Borrower].into_iter().collect(),
                marital_status: None,
                relation_to_borrower: None,
            }],
            property_location: None,
        }]
    }

    /// 003 还款日前X天 reminder; 002 item 25: a partner loan's text is the
    /// partner's to sign, the bank's own loan's the bank's.
    #[test]
    fn a_reminder_texts_the_borrower_signed_by_whoever_owns_the_customer() {
        let due = event(
            "L1",
            Body::Loan(LoanEvent::RepaymentReminderDue {
                period: 2,
                due_date: chrono::NaiveDate::from_ymd_opt(2027, 3, 10).unwrap(),
                amount: Decimal::new(123_456, 2),
            }),
        );
        for (product, channel, sender) in [
            (Product::Partner, "RONGSHU", Some("RONGSHU".to_string())),
            (Product::Yongxu, "YYZX", None),
        ] {
            let mut facts = facts();
            facts
                .loans
                .insert("L1".into(), loan_of(product, channel, None));
            let effects = LoanFlow.react(&due, &facts);
            let [Effect::Text(text)] = effects.as_slice() else {
                panic!("{effects:?}");
            };
            assert_eq!(text.phone, "15618293093");
            assert_eq!(text.sender, sender);
        }
    }

    /// 003 §二(四): 同步发送审核结果的短信告知客户 — approved with the limit, or
    /// declined with the credit system's wording passed through; only for 融信秒贷.
    /// 003 提前还款: the debit notice names the day and the amount.
    #[test]
    fn the_approval_result_and_the_prepayment_debit_are_texted() {
        let text_of = |product, body| {
            let mut facts = facts();
            facts
                .loans
                .insert("L1".into(), loan_of(product, "ZXYH", None));
            let effects = LoanFlow.react(&event("L1", Body::Loan(body)), &facts);
            match effects.as_slice() {
                [Effect::Text(text)] => Some((text.template.clone(), text.body.clone())),
                [] => None,
                other => panic!("{other:?}"),
            }
        };
        let approved = LoanEvent::LoanApproved {
            route: crate::loan_application::ApprovalRoute::Automatic,
            credit_limit: Some(Decimal::new(5_000_000, 2)),
            offer: None,
        };
        let (template, body) = text_of(Product::RongxinMiaodai, approved.clone()).unwrap();
        assert_eq!(template, "LOAN_APPROVAL_RESULT");
        assert!(
            body.contains("已审批通过") && body.contains("授信额度50000.00元"),
            "{body}"
        );
        let declined = LoanEvent::LoanDeclined {
            reason: "综合评分不足，暂不符合贷款条件".into(),
        };
        let (_, body) = text_of(Product::RongxinMiaodai, declined).unwrap();
        assert!(
            body.ends_with("未通过审批: 综合评分不足，暂不符合贷款条件"),
            "{body}"
        );
        assert_eq!(
            text_of(Product::Yongxu, approved),
            None,
            "永续贷 runs offline"
        );
        let notice = LoanEvent::PrepaymentDebitNoticeDue {
            prepayment_id: "PP-1".into(),
            debit_date: chrono::NaiveDate::from_ymd_opt(2027, 3, 25).unwrap(),
            amount: Decimal::new(1_007_465, 2),
        };
        let (template, body) = text_of(Product::RongxinMiaodai, notice).unwrap();
        assert_eq!(template, "PREPAYMENT_DEBIT_NOTICE");
        assert!(
            body.contains("2027年03月25日 自动扣款") && body.contains("扣款金额10074.65元"),
            "{body}"
        );
    }

    /// 001 2.3.1: the task the loan opens carries the application's property
    /// place and each person's marital status and relation to the borrower.
    #[test]
    fn the_loan_s_task_carries_its_property_place_and_marital_status() {
        let place = crate::interview_task::PropertyLocation {
            province: "广东省".into(),
            city: "深圳市".into(),
            district: "南山区".into(),
            address: Some("科技园".into()),
        };
        let mut events = loan_events(Product::Yongxu, "YYZX");
        let LoanEvent::LoanSubmitted {
            participants,
            property_location,
            ..
        } = &mut events[0]
        else {
            unreachable!()
        };
        participants[0].marital_status = Some(crate::interview_task::MaritalStatus::Married);
        *property_location = Some(Box::new(place.clone()));
        let loan: LoanApplication = rebuilt(events);
        let advanced = event(
            "L1",
            Body::Loan(LoanEvent::LoanAdvanced {
                from: Node::HomeVisit,
                to: Node::Interview,
            }),
        );
        let mut facts = facts();
        facts.loans.insert("L1".into(), loan);
        let effects = LoanFlow.react(&advanced, &facts);
        let Effect::Send(Order::Task(_, InterviewTaskCommand::Create(create)), _) = &effects[0]
        else {
            panic!("{effects:?}");
        };
        assert_eq!(create.property_location.as_deref(), Some(&place));
        assert_eq!(
            create.participants[0].marital_status,
            Some(crate::interview_task::MaritalStatus::Married)
        );
    }

    /// 001: reaching 面谈 opens the task with the loan's people, linked to the loan.
    #[test]
    fn reaching_the_interview_opens_a_task_and_attaches_it() {
        let advanced = event(
            "L1",
            Body::Loan(LoanEvent::LoanAdvanced {
                from: Node::HomeVisit,
                to: Node::Interview,
            }),
        );
        assert_eq!(LoanFlow.needs(&advanced), vec![Need::Loan("L1".into())]);
        let mut facts = facts();
        facts.loans.insert("L1".into(), loan(None));
        let effects = LoanFlow.react(&advanced, &facts);
        let task_id = derived_id("L1:3").to_string();
        let Effect::Send(Order::Task(id, InterviewTaskCommand::Create(create)), _) = &effects[0]
        else {
            panic!("{effects:?}");
        };
        assert_eq!(id, &task_id);
        assert_eq!(create.contract_no, "HT-9");
        assert_eq!(create.manager_id, "M1");
        assert_eq!(create.participants.len(), 1);
        assert_eq!(
            create.property_location, None,
            "the application named no place"
        );
        let lineage = create.lineage.as_ref().unwrap();
        assert_eq!(
            (lineage.transition.as_str(), lineage.actor_id.as_str()),
            ("家访→面谈", "M1")
        );
        assert_eq!(
            effects[1],
            Effect::send(Order::Loan(
                "L1".into(),
                LoanCommand::AttachInterviewTask { task_id }
            ))
        );
        // Back at 面谈 after a roll-back, the task exists: nothing more.
        facts.loans.insert("L1".into(), loan(Some("t0")));
        assert!(LoanFlow.react(&advanced, &facts).is_empty());
    }

    /// 001 §2.3.1.1 item 14: the seat's confirmation or correction of the loan
    /// figures on a loan's task is told to the loan, naming the seat, once per
    /// task event.
    #[test]
    fn the_seats_review_of_the_figures_is_told_to_the_loan() {
        use crate::interview_task::{InterviewTask, LoanInfo};
        let task: InterviewTask = rebuilt(vec![InterviewTaskEvent::InterviewTaskCreated(
            crate::interview_task::InterviewTaskCreated {
                task_id: "t1".into(),
                contract_no: "HT-9".into(),
                kind: TaskKind::YongxuVideoInterview,
                required_steps: vec![],
                product_code: "YXD".into(),
                channel_code: "YYZX".into(),
                manager_id: "M1".into(),
                participants: vec![],
                created_at: chrono::Utc::now(),
                lineage: Some(TaskLineage {
                    loan_id: "L1".into(),
                    supersedes: None,
                    transition: "家访→面谈".into(),
                    reason: None,
                    actor_id: "M1".into(),
                    actor_role: "ACCOUNT_MANAGER".into(),
                }),
                property_location: None,
                loan_info: None,
            },
        )]);
        let mut facts = facts();
        facts.tasks.insert("t1".into(), task);
        let info = LoanInfo {
            term_months: Some(48),
            ..Default::default()
        };
        let edited = event(
            "t1",
            Body::Task(InterviewTaskEvent::Session(SessionEvent::LoanInfoEdited {
                before: Box::default(),
                after: Box::new(info.clone()),
            })),
        );
        assert_eq!(LoanFlow.needs(&edited), vec![Need::Task("t1".into())]);
        let effects = LoanFlow.react(&edited, &facts);
        let [Effect::Send(
            Order::Loan(
                loan,
                LoanCommand::RecordSeatLoanInfoReview {
                    review_id,
                    seat_id,
                    corrected,
                    info: told,
                    ..
                },
            ),
            _,
        )] = effects.as_slice()
        else {
            panic!("{effects:?}")
        };
        assert_eq!(loan, "L1");
        assert_eq!(*review_id, format!("t1:{}", edited.sequence));
        assert_eq!(seat_id, &edited.actor.id);
        assert!(*corrected);
        assert_eq!(**told, info);
    }

    /// 001 逆向业务操作: a roll-back past 面谈 supersedes the task and opens its successor.
    #[test]
    fn a_roll_back_past_the_interview_supersedes_and_opens_a_successor() {
        let rolled = event(
            "L1",
            Body::Loan(LoanEvent::LoanRolledBack {
                from: Node::Signing,
                to: Node::Interview,
                reason: "客户对方案有异议".into(),
                interview_task: Some("t0".into()),
            }),
        );
        let mut facts = facts();
        facts.loans.insert("L1".into(), loan(Some("t0")));
        let effects = LoanFlow.react(&rolled, &facts);
        let successor = derived_id("L1:3").to_string();
        assert_eq!(
            effects[0],
            Effect::send(Order::Task(
                "t0".into(),
                InterviewTaskCommand::Supersede {
                    successor_id: successor.clone(),
                    transition: "面签→面谈".into(),
                    reason: "客户对方案有异议".into(),
                }
            ))
        );
        assert!(matches!(
            &effects[1],
            Effect::Send(Order::Task(id, InterviewTaskCommand::Create(c)), _)
                if *id == successor && c.lineage.as_ref().unwrap().supersedes.as_deref() == Some("t0")
        ));
        assert_eq!(effects.len(), 3);
    }
}
