//! 分案规则 (001 2.4.4; 004 3.6): which seat a queued call goes to. The rule
//! itself is an aggregate (`DispatchRule`, one per deployment, id
//! [`RULE_ID`]); the choice is a pure function so it is tested without I/O and
//! its result is recorded on the call, never recomputed on replay.

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use super::QueuedCall;
use crate::error::{DomainError, ErrorCode};
use crate::services::DomainServices;

/// Id of the deployment's dispatch rule aggregate.
pub const RULE_ID: &str = "default";

/// Aggregate type name of the dispatch rule.
pub const RULE_AGGREGATE_TYPE: &str = "dispatch-rule";

/// Why a call went to a seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DispatchReason {
    /// The customer asked for this seat (指定坐席).
    Designated,
    /// The seat booked for the task's appointment (001 2.4.4.3 预设).
    Preassigned,
    /// The seat served this customer before (004 3.6 熟客优先).
    Familiar,
    /// A random idle seat (随机分配, the default of 001 2.4.4.2).
    Random,
    /// The idle seat that answered fewest calls today, then the one idle longest
    /// (空闲分配; 004 3.6 按客服接通会话视频的时间顺序).
    LeastBusy,
    /// A seat took the waiting call from 队列管理 (after unanswered offers, or by choice).
    Picked,
}

/// How an idle seat is chosen when no seat is designated, preassigned or familiar.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
pub enum IdleSeatRule {
    /// 随机分配 (001: 若未设置分案规则，则默认随机分配规则).
    #[default]
    Random,
    /// 空闲分配: least busy first.
    LeastBusy,
}

/// A seat as the dispatcher sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatCandidate {
    /// Seat number.
    pub seat_no: String,
    /// Its skills and those of its seat groups; empty serves every call.
    pub skills: Vec<String>,
    /// Enabled, signed in, 空闲 and not holding another call's offer.
    pub available: bool,
    /// Calls answered today (Shanghai day).
    pub answered_today: u32,
    /// When it last answered a call.
    pub last_answered_at: Option<DateTime<Utc>>,
    /// Whether it has served this call's customer before.
    pub served_customer: bool,
}

impl SeatCandidate {
    /// 001 2.4.4.1 多维度: a seat with skills serves a call only when every
    /// attribute the call carries (product, channel, region) is among them.
    pub fn serves(&self, call: &QueuedCall) -> bool {
        if self.skills.is_empty() {
            return true;
        }
        let wanted = [
            Some(call.product_code.as_str()),
            Some(call.channel_code.as_str()),
            call.region.as_deref(),
        ];
        wanted
            .into_iter()
            .flatten()
            .filter(|v| !v.is_empty())
            .all(|v| self.skills.iter().any(|s| s == v))
    }
}

/// The seat for `call` (whose id seeds the random rule, so a redelivered
/// decision is the same), or None to keep waiting. A designated or preassigned
/// seat is waited for even when others are idle; a supervisor can transfer.
pub fn choose_seat(
    call_id: uuid::Uuid,
    call: &QueuedCall,
    seats: &[SeatCandidate],
    rule: IdleSeatRule,
) -> Option<(String, DispatchReason)> {
    for (wanted, reason) in [
        (&call.designated_seat, DispatchReason::Designated),
        (&call.preassigned_seat, DispatchReason::Preassigned),
    ] {
        if let Some(wanted) = wanted {
            return seats
                .iter()
                .find(|s| &s.seat_no == wanted && s.available)
                .map(|s| (s.seat_no.clone(), reason));
        }
    }
    let mut idle: Vec<&SeatCandidate> = seats
        .iter()
        .filter(|s| s.available && s.serves(call))
        .collect();
    if idle.is_empty() {
        return None;
    }
    let least_busy = |a: &&SeatCandidate, b: &&SeatCandidate| {
        (a.answered_today, a.last_answered_at, &a.seat_no).cmp(&(
            b.answered_today,
            b.last_answered_at,
            &b.seat_no,
        ))
    };
    if let Some(familiar) = idle
        .iter()
        .copied()
        .filter(|s| s.served_customer)
        .min_by(least_busy)
    {
        return Some((familiar.seat_no.clone(), DispatchReason::Familiar));
    }
    match rule {
        IdleSeatRule::LeastBusy => idle
            .into_iter()
            .min_by(least_busy)
            .map(|s| (s.seat_no.clone(), DispatchReason::LeastBusy)),
        IdleSeatRule::Random => {
            idle.sort_by(|a, b| a.seat_no.cmp(&b.seat_no));
            let pick = (call_id.as_u128() % idle.len() as u128) as usize;
            Some((idle[pick].seat_no.clone(), DispatchReason::Random))
        }
    }
}

/// 004 4.3 排队等待页面: the wait a customer at `position` (1 = next) can
/// expect, when `serving` seats each take about `average_talk_seconds` a call.
pub fn estimated_wait_seconds(position: u32, serving: u32, average_talk_seconds: u32) -> u32 {
    if position == 0 {
        return 0;
    }
    position.div_ceil(serving.max(1)) * average_talk_seconds
}

/// Commands of the dispatch rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum DispatchRuleCommand {
    /// Sets the rule.
    Configure {
        /// How an idle seat is chosen.
        idle_seat_rule: IdleSeatRule,
        /// 004 3.18 (通过将客服归入对应的客服组…客服才可以接听): once seat groups
        /// exist only seats in one answer the pool's calls; `true` lets seats in
        /// no group answer too (deployments moving to groups). None keeps it.
        ungrouped_seats_answer: Option<bool>,
    },
}

/// What happened to the rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum DispatchRuleEvent {
    /// The rule was set.
    DispatchRuleConfigured {
        /// How an idle seat is chosen.
        idle_seat_rule: IdleSeatRule,
        /// Whether seats in no group answer once groups exist (absent in
        /// events stored before it existed: no).
        #[serde(default)]
        ungrouped_seats_answer: bool,
    },
}

impl DomainEvent for DispatchRuleEvent {
    fn event_type(&self) -> String {
        "DispatchRuleConfigured".to_string()
    }

    fn event_version(&self) -> String {
        "1.0".to_string()
    }
}

/// The dispatch rule never refuses a well-formed command.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Serialize,
    thiserror::Error,
    schemars::JsonSchema,
    crate::message::Localized,
)]
#[error("dispatch rule refused")]
pub struct DispatchRuleError;

impl DomainError for DispatchRuleError {
    fn code(&self) -> ErrorCode {
        ErrorCode::Validation
    }
}

/// The deployment's 分案规则.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DispatchRule {
    idle_seat_rule: IdleSeatRule,
    ungrouped_seats_answer: bool,
}

impl DispatchRule {
    /// How idle seats are chosen (random until configured).
    pub fn idle_seat_rule(&self) -> IdleSeatRule {
        self.idle_seat_rule
    }

    /// Whether seats in no group answer the pool's calls once groups exist.
    pub fn ungrouped_seats_answer(&self) -> bool {
        self.ungrouped_seats_answer
    }
}

impl Aggregate for DispatchRule {
    const TYPE: &'static str = RULE_AGGREGATE_TYPE;
    type Command = DispatchRuleCommand;
    type Event = DispatchRuleEvent;
    type Error = DispatchRuleError;
    type Services = DomainServices;

    async fn handle(
        &mut self,
        command: DispatchRuleCommand,
        _: &DomainServices,
        sink: &EventSink<Self>,
    ) -> Result<(), DispatchRuleError> {
        let DispatchRuleCommand::Configure {
            idle_seat_rule,
            ungrouped_seats_answer,
        } = command;
        let ungrouped_seats_answer = ungrouped_seats_answer.unwrap_or(self.ungrouped_seats_answer);
        sink.write(
            DispatchRuleEvent::DispatchRuleConfigured {
                idle_seat_rule,
                ungrouped_seats_answer,
            },
            self,
        )
        .await;
        Ok(())
    }

    fn apply(&mut self, event: DispatchRuleEvent) {
        let DispatchRuleEvent::DispatchRuleConfigured {
            idle_seat_rule,
            ungrouped_seats_answer,
        } = event;
        self.idle_seat_rule = idle_seat_rule;
        self.ungrouped_seats_answer = ungrouped_seats_answer;
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use uuid::Uuid;

    use super::*;

    fn seat(no: &str) -> SeatCandidate {
        SeatCandidate {
            seat_no: no.into(),
            skills: vec![],
            available: true,
            answered_today: 0,
            last_answered_at: None,
            served_customer: false,
        }
    }

    fn call() -> QueuedCall {
        QueuedCall {
            task_id: "t1".into(),
            customer_key: "c1".into(),
            channel_code: "YYZX".into(),
            product_code: "YXD".into(),
            region: Some("上海".into()),
            ..QueuedCall::default()
        }
    }

    /// 001_d165f826565a3102.txt 2.4.4.3 预设: the seat the account manager assigned
    /// takes the call, and the call waits for it while it is busy.
    #[test]
    fn a_preassigned_seat_is_waited_for() {
        let mut call = call();
        call.preassigned_seat = Some("S2".into());
        let mut seats = vec![seat("S1"), seat("S2")];
        assert_eq!(
            choose_seat(Uuid::nil(), &call, &seats, IdleSeatRule::Random),
            Some(("S2".into(), DispatchReason::Preassigned))
        );
        seats[1].available = false;
        assert_eq!(
            choose_seat(Uuid::nil(), &call, &seats, IdleSeatRule::Random),
            None
        );
        call.designated_seat = Some("S1".into());
        assert_eq!(
            choose_seat(Uuid::nil(), &call, &seats, IdleSeatRule::Random),
            Some(("S1".into(), DispatchReason::Designated)),
            "a seat the customer designates comes before the preassigned one"
        );
    }

    /// 004_448cd5ace309d8b2.txt 3.6: 熟客优先原则，优先分配给创建/已处理过该任务的坐席.
    #[test]
    fn a_familiar_seat_comes_before_the_rule() {
        let mut seats = vec![seat("S1"), seat("S2"), seat("S3")];
        seats[2].served_customer = true;
        seats[2].answered_today = 9;
        for rule in [IdleSeatRule::Random, IdleSeatRule::LeastBusy] {
            assert_eq!(
                choose_seat(Uuid::from_u128(1), &call(), &seats, rule),
                Some(("S3".into(), DispatchReason::Familiar))
            );
        }
        seats[2].available = false;
        assert_ne!(
            choose_seat(Uuid::from_u128(1), &call(), &seats, IdleSeatRule::Random).map(|c| c.1),
            Some(DispatchReason::Familiar),
            "a busy familiar seat is not waited for"
        );
    }

    /// 001_d165f826565a3102.txt 2.4.4: 随机分配 by default, 空闲分配 when configured; 004
    /// 3.6: 按客服接通会话视频的时间顺序 among equally busy seats.
    #[test]
    fn idle_seats_by_rule() {
        let at = |h| Utc.with_ymd_and_hms(2026, 11, 23, h, 0, 0).unwrap();
        let mut seats = vec![seat("S1"), seat("S2"), seat("S3")];
        seats[0].answered_today = 2;
        seats[1].answered_today = 1;
        seats[1].last_answered_at = Some(at(3));
        seats[2].answered_today = 1;
        seats[2].last_answered_at = Some(at(2));
        assert_eq!(
            choose_seat(Uuid::from_u128(5), &call(), &seats, IdleSeatRule::LeastBusy),
            Some(("S3".into(), DispatchReason::LeastBusy))
        );
        let picks: std::collections::HashSet<String> = (0..30u128)
            .filter_map(|i| choose_seat(Uuid::from_u128(i), &call(), &seats, IdleSeatRule::Random))
            .map(|(s, _)| s)
            .collect();
        assert_eq!(picks.len(), 3, "random spreads over every idle seat");
        assert_eq!(
            choose_seat(Uuid::from_u128(7), &call(), &seats, IdleSeatRule::Random),
            choose_seat(Uuid::from_u128(7), &call(), &seats, IdleSeatRule::Random),
            "the same call gets the same seat when the decision is redelivered"
        );
    }

    /// 001_d165f826565a3102.txt 2.4.4.1: 按客户属性…客户房屋所在地区…多维度 — a seat with
    /// skills takes only calls whose product, channel and region it covers.
    #[test]
    fn skills_filter_by_product_channel_and_region() {
        let mut skilled = seat("S1");
        skilled.skills = vec!["YXD".into(), "YYZX".into(), "上海".into()];
        assert!(skilled.serves(&call()));
        let mut elsewhere = call();
        elsewhere.region = Some("北京".into());
        assert!(!skilled.serves(&elsewhere));
        assert!(
            seat("S2").serves(&elsewhere),
            "a seat without skills serves all"
        );
        assert_eq!(
            choose_seat(Uuid::nil(), &elsewhere, &[skilled], IdleSeatRule::Random),
            None
        );
    }

    /// 004_448cd5ace309d8b2.txt 4.3: the estimate grows with the position and shrinks
    /// with the seats serving.
    #[test]
    fn estimated_wait() {
        assert_eq!(estimated_wait_seconds(0, 2, 300), 0);
        assert_eq!(estimated_wait_seconds(1, 2, 300), 300);
        assert_eq!(estimated_wait_seconds(3, 2, 300), 600);
        assert_eq!(estimated_wait_seconds(3, 0, 300), 900);
    }
}
