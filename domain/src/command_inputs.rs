//! Property tests over command inputs (the benchmarks and faults issue):
//! whatever a client sends, an aggregate answers with events or a typed error
//! whose code is VALIDATION (or another stable code) — never a panic — and a
//! refused command emits nothing.

use chrono::{TimeZone, Utc};
use cqrs_es::test::TestFramework;
use proptest::prelude::*;

use crate::channel::{Channel, ChannelCommand, ChannelSettings, GpsArea};
use crate::error::{DomainError, ErrorCode};
use crate::interview_task::{
    CreateInterviewTask, IdType, InterviewTask, InterviewTaskCommand, ParticipantInput,
    ParticipantRole, TaskKind,
};
use crate::services::DomainServices;
use crate::work_order::{WorkOrder, WorkOrderCommand, WorkOrderDetails};

fn services() -> DomainServices {
    DomainServices::fixed_at(Utc.with_ymd_and_hms(2026, 11, 23, 2, 0, 0).unwrap())
}

fn role() -> impl Strategy<Value = ParticipantRole> {
    prop_oneof![
        Just(ParticipantRole::Borrower),
        Just(ParticipantRole::CoBorrower),
        Just(ParticipantRole::CoOwner),
        Just(ParticipantRole::Spouse),
        Just(ParticipantRole::Guarantor),
    ]
}

fn participant() -> impl Strategy<Value = ParticipantInput> {
    (
        "\\PC{0,70}",
        prop_oneof![Just(IdType::IdCard), Just(IdType::Other)],
        prop_oneof!["[0-9]{17}[0-9X]", "\\PC{0,40}"],
        prop_oneof!["1[0-9]{10}", "\\PC{0,15}"],
        proptest::collection::vec(role(), 0..3),
    )
        .prop_map(
            |(name, id_type, id_number, phone, roles)| ParticipantInput {
                name,
                id_type,
                id_number,
                phone,
                roles,
                marital_status: None,
                relation_to_borrower: None,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// 001_d165f826565a3102.txt: a task is created from its participants or refused
    /// with a validation-class error; nothing panics.
    #[test]
    fn task_creation_never_panics(
        contract in "\\PC{0,80}",
        product in "\\PC{0,20}",
        people in proptest::collection::vec(participant(), 0..5),
    ) {
        let result = TestFramework::<InterviewTask>::with(services())
            .given_no_previous_events()
            .when(InterviewTaskCommand::Create(CreateInterviewTask {
                lineage: None,
                task_id: "t1".into(),
                contract_no: contract,
                kind: TaskKind::YongxuVideoInterview,
                product_code: product,
                channel_code: "YYZX".into(),
                manager_id: "M0001".into(),
                participants: people,
                property_location: None,
                loan_info: None,
            }))
            .inspect_result();
        if let Err(error) = result {
            prop_assert_eq!(error.code(), ErrorCode::Validation, "{}", error);
        }
    }

    /// Channel settings: any name and any GPS area are validated, not trusted.
    #[test]
    fn channel_settings_are_validated(
        name in "\\PC{0,80}",
        latitude in proptest::num::f64::ANY,
        longitude in proptest::num::f64::ANY,
        radius in proptest::num::f64::ANY,
    ) {
        let settings = ChannelSettings {
            name,
            gps_areas: vec![GpsArea { latitude, longitude, radius_m: radius }],
            ..ChannelSettings::default()
        };
        let result = TestFramework::<Channel>::with(services())
            .given_no_previous_events()
            .when(ChannelCommand::Create(settings))
            .inspect_result();
        if let Err(error) = result {
            prop_assert_eq!(error.code(), ErrorCode::Validation);
        }
    }

    /// 004_448cd5ace309d8b2.txt 3.4: any 新建工单 form is accepted or refused as VALIDATION.
    #[test]
    fn work_orders_are_validated(
        business in "\\PC{0,80}", name in "\\PC{0,80}", phone in "\\PC{0,20}",
        case_no in "\\PC{0,80}", id in proptest::option::of("\\PC{0,40}"),
    ) {
        let result = TestFramework::<WorkOrder>::with(services())
            .given_no_previous_events()
            .when(WorkOrderCommand::Create(WorkOrderDetails {
                business_type: business,
                customer_name: name,
                phone,
                id_number: id,
                case_no,
                policy_no: None,
            }))
            .inspect_result();
        if let Err(error) = result {
            prop_assert_eq!(error.code(), ErrorCode::Validation);
        }
    }
}
