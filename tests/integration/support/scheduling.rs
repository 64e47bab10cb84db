//! Seats, tasks and appointments as the end-to-end tests set them up.

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use serde_json::{json, Value};

use super::{data, task_input, TestApp, CREATE_TASK};

pub(crate) const REGISTER: &str = r#"mutation($input: RegisterSeatInput!) { registerSeat(input: $input) { seatNo projected seat { seatNo enabled skills } } }"#;

pub(crate) const HOURS: &str = r#"mutation($seats: [String!]!, $hours: [WorkingPeriodInput!]!) { setWorkingHours(seatNos: $seats, hours: $hours) { seatNo seat { workingHours { weekday start end } } } }"#;

pub(crate) const TASK_FIELDS: &str = "taskId task { id status seatNo appointmentStart appointmentEnd rescheduleCount bookingStatus bookingError version }";

pub(crate) fn book_mutation() -> String {
    format!("mutation($taskId: ID!, $seat: String!, $start: DateTime!, $end: DateTime!) {{ bookAppointment(taskId: $taskId, seatNo: $seat, start: $start, end: $end) {{ {TASK_FIELDS} }} }}")
}

/// Tomorrow (Asia/Shanghai) at `hour:minute`, as UTC.
pub(crate) fn tomorrow_at(hour: u32, minute: u32) -> DateTime<Utc> {
    let shanghai = domain::schedule::shanghai();
    let day = (Utc::now().with_timezone(&shanghai) + chrono::Duration::days(1)).date_naive();
    shanghai
        .from_local_datetime(&day.and_time(NaiveTime::from_hms_opt(hour, minute, 0).unwrap()))
        .unwrap()
        .to_utc()
}

pub(crate) fn slot_vars(task_id: &str, seat: &str, start: DateTime<Utc>) -> Value {
    json!({
        "taskId": task_id, "seat": seat,
        "start": start.to_rfc3339(), "end": (start + chrono::Duration::minutes(30)).to_rfc3339(),
    })
}

/// A resident ID with a valid check digit, distinct for each `n`.
pub(crate) fn resident_id(n: u32) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let base = format!("4101021990{n:07}");
    let sum: u32 = base
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    format!(
        "{base}{}",
        "10X98765432".as_bytes()[(sum % 11) as usize] as char
    )
}

pub(crate) async fn seat(app: &TestApp, seat_no: &str) {
    let registered = app
        .graphql_as(
            ("A001", "ADMIN"),
            REGISTER,
            json!({ "input": { "seatNo": seat_no, "name": format!("坐席{seat_no}"), "groups": ["永续贷组"], "skills": ["YXD", "YYZX"] } }),
        )
        .await;
    assert_eq!(data(&registered)["registerSeat"]["seat"]["enabled"], true);
    let every_day: Vec<Value> = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]
        .iter()
        .map(|d| json!({ "weekday": d, "start": "00:00:00", "end": "23:59:00" }))
        .collect();
    let hours = app
        .graphql_as(
            ("A001", "SUPERVISOR"),
            HOURS,
            json!({ "seats": [seat_no], "hours": every_day }),
        )
        .await;
    data(&hours);
}

pub(crate) async fn task_with(app: &TestApp, contract_no: &str, borrower: &str) -> String {
    let mut input = task_input(contract_no);
    input["participants"] = json!([
        { "name": "借款人", "idNumber": borrower, "phone": "13800138000", "roles": ["BORROWER"] }
    ]);
    let response = app.graphql(CREATE_TASK, json!({ "input": input })).await;
    data(&response)["createInterviewTask"]["taskId"]
        .as_str()
        .unwrap()
        .to_string()
}
