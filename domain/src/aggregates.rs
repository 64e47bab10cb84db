//! The one list of aggregates (issue 33 item 3). Everything that must name
//! every aggregate — the event contracts, the auditors' fold of any aggregate
//! (`aggregateAt`), the labels' check — is generated from this list, so adding
//! an aggregate is its module and one line here.

/// Calls `$callback! { … }` with every aggregate of the engine, one entry per
/// aggregate: its log name (`AGGREGATE_TYPE`), the aggregate type, its event
/// enum, and the variants of that enum that wrap a further event enum whose
/// variants are event types of their own (the task's `Session`).
#[macro_export]
macro_rules! for_each_aggregate {
    ($callback:ident) => {
        $callback! {
            $crate::interview_task::AGGREGATE_TYPE => $crate::interview_task::InterviewTask, $crate::interview_task::InterviewTaskEvent, ["Session"];
            $crate::qc_case::AGGREGATE_TYPE => $crate::qc_case::QcCase, $crate::qc_case::QcCaseEvent, [];
            $crate::seat::AGGREGATE_TYPE => $crate::seat::Seat, $crate::seat::SeatEvent, [];
            $crate::customer_agenda::AGGREGATE_TYPE => $crate::customer_agenda::CustomerAgenda, $crate::customer_agenda::AgendaEvent, [];
            $crate::loan_application::AGGREGATE_TYPE => $crate::loan_application::LoanApplication, $crate::loan_application::LoanEvent, [];
            $crate::channel::AGGREGATE_TYPE => $crate::channel::Channel, $crate::channel::ChannelEvent, [];
            $crate::inbound_call::AGGREGATE_TYPE => $crate::inbound_call::InboundCall, $crate::inbound_call::InboundCallEvent, [];
            $crate::inbound_call::dispatch::RULE_AGGREGATE_TYPE => $crate::inbound_call::DispatchRule, $crate::inbound_call::dispatch::DispatchRuleEvent, [];
            $crate::partner_order::AGGREGATE_TYPE => $crate::partner_order::PartnerOrder, $crate::partner_order::PartnerOrderEvent, [];
            $crate::callback::AGGREGATE_TYPE => $crate::callback::Callback, $crate::callback::CallbackEvent, [];
            $crate::account::AGGREGATE_TYPE => $crate::account::Account, $crate::account::AccountEvent, [];
            $crate::work_order::AGGREGATE_TYPE => $crate::work_order::WorkOrder, $crate::work_order::WorkOrderEvent, [];
            $crate::script_catalog::AGGREGATE_TYPE => $crate::script_catalog::ScriptCatalog, $crate::script_catalog::ScriptEvent, [];
            $crate::media_asset::AGGREGATE_TYPE => $crate::media_asset::MediaAsset, $crate::media_asset::MediaEvent, [];
            $crate::seat_group::AGGREGATE_TYPE => $crate::seat_group::SeatGroup, $crate::seat_group::SeatGroupEvent, [];
            $crate::change_proposal::AGGREGATE_TYPE => $crate::change_proposal::ChangeProposal, $crate::change_proposal::ChangeProposalEvent, [];
        }
    };
}

macro_rules! aggregate_types {
    ($($name:path => $aggregate:ty, $event:ty, [$($nested:literal),*];)*) => {
        /// Every aggregate type in the log, by its log name, in the list's order.
        pub const AGGREGATE_TYPES: &[&str] = &[$($name),*];
    };
}

for_each_aggregate!(aggregate_types);

#[cfg(test)]
mod tests {
    use super::AGGREGATE_TYPES;

    /// Every aggregate named once, and every event enum's aggregate in the list.
    #[test]
    fn each_aggregate_is_listed_once() {
        let mut names = AGGREGATE_TYPES.to_vec();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), AGGREGATE_TYPES.len(), "{AGGREGATE_TYPES:?}");
        assert_eq!(AGGREGATE_TYPES.len(), 16);
    }
}
