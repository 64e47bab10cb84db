//! What the seat and the back office need to know about a case (issue 22
//! item 5): 婚姻状况 and 与借款人关系 of each participant, the property's
//! location and the 省内/省外 routing it decides, video tags, the QC list
//! filtered like 视频管理, a customer's own tasks and work orders by phone.

use serde_json::{json, Value};

use crate::support::on_both_backends;
use crate::support::scheduling::seat;
use crate::support::session::{
    book_and_start, book_and_start_at, conclude, end_call, session, SEAT,
};
use crate::support::{data, error_code, settings, Backend, TestApp, TestDb, CREATE_TASK};

const BORROWER: &str = "410102198503121017";
const SPOUSE: &str = "410102198707222020";
const OTHER_BORROWER: &str = "11010519491231002X";
const SUPERVISOR: (&str, &str) = ("SV1", "SUPERVISOR");

on_both_backends!(
    only_out_of_province_cases_are_interviewed_and_the_case_data_is_shown,
    lists_filter_by_customer_manager_region_and_date,
    a_customer_finds_their_own_tasks_and_work_orders
);

async fn app(backend: Backend) -> (TestApp, std::sync::Arc<store::ShiftableClock>) {
    let clock = std::sync::Arc::new(store::ShiftableClock::default());
    let server_clock = clock.clone();
    let app = TestApp::spawn_on(TestDb::new(backend).await, move |url| {
        let mut settings = settings(url);
        settings.clock = server_clock;
        settings.session.qc_sample_per_mille = 0;
        settings.routing.home_province = Some("河南省".into());
        settings
    })
    .await;
    (app, clock)
}

fn input(contract_no: &str, borrower: &str, name: &str, province: &str, city: &str) -> Value {
    json!({
        "contractNo": contract_no,
        "kind": "YONGXU_VIDEO_INTERVIEW",
        "productCode": "YXD",
        "channelCode": "YYZX",
        "managerId": "M0001",
        "participants": [
            { "name": name, "idNumber": borrower, "phone": "15618293093", "roles": ["BORROWER"],
              "maritalStatus": "MARRIED", "relationToBorrower": "本人" },
            { "name": "李婉清", "idNumber": SPOUSE, "phone": "13912345678", "roles": ["SPOUSE"],
              "maritalStatus": "MARRIED", "relationToBorrower": "配偶" }
        ],
        "propertyLocation": { "province": province, "city": city, "district": "西湖区", "address": "文三路 1 号" }
    })
}

async fn create(app: &TestApp, input: Value) -> Value {
    app.graphql(CREATE_TASK, json!({ "input": input })).await
}

fn task_id(created: &Value) -> String {
    data(created)["createInterviewTask"]["taskId"]
        .as_str()
        .unwrap()
        .to_string()
}

/// 001_d165f826565a3102.txt 2.5.1: 通过客户房屋属地，判断客户个案省内/省外归属。省内流程不做改动 —
/// with 河南省 as the bank's province a 河南 property gets no interview task
/// (refused, nothing stored) and a 浙江 one does; 2.3.1 客户基本信息: 婚姻状况,
/// 房产位置 and 与借款人关系 are shown to the seat; 2.3.1.1 视频标签.
async fn only_out_of_province_cases_are_interviewed_and_the_case_data_is_shown(backend: Backend) {
    let (app, clock) = app(backend).await;
    let route = |province: &str| {
        let app = &app;
        let province = province.to_string();
        async move {
            let answer = app
                .graphql_as(
                    ("M0001", "ACCOUNT_MANAGER"),
                    "query($p: String!) { interviewRoute(province: $p) { province homeProvince interviewRequired } }",
                    json!({ "p": province }),
                )
                .await;
            data(&answer)["interviewRoute"].clone()
        }
    };
    assert_eq!(
        route("河南").await["interviewRequired"],
        false,
        "省内 (河南 = 河南省)"
    );
    assert_eq!(route("浙江省").await["interviewRequired"], true, "省外");
    assert_eq!(route("浙江省").await["homeProvince"], "河南省");

    let in_province = create(
        &app,
        input("HT-HN-1", BORROWER, "邓小闲", "河南省", "郑州市"),
    )
    .await;
    assert_eq!(
        error_code(&in_province),
        "INVALID_TRANSITION",
        "{in_province}"
    );
    let board = app
        .graphql_as(
            SUPERVISOR,
            r#"{ tasks(filter: { contractNo: "HT-HN-1" }) { edges { node { id } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        data(&board)["tasks"]["edges"],
        json!([]),
        "nothing was stored"
    );

    let id = task_id(
        &create(
            &app,
            input("HT-ZJ-1", BORROWER, "邓小闲", "浙江省", "杭州市"),
        )
        .await,
    );
    seat(&app, "S1").await;
    book_and_start(&app, &clock, &id).await;
    let shown = app
        .graphql_as(
            SEAT,
            "query($id: ID!) { task(id: $id) { propertyLocation { province city district address } participants { name maritalStatus relationToBorrower isMainBorrower } } }",
            json!({ "id": id }),
        )
        .await;
    let task = &data(&shown)["task"];
    assert_eq!(
        task["propertyLocation"],
        json!({ "province": "浙江省", "city": "杭州市", "district": "西湖区", "address": "文三路 1 号" }),
        "the serving seat sees the address"
    );
    assert_eq!(
        task["participants"],
        json!([
            { "name": "邓小闲", "maritalStatus": "MARRIED", "relationToBorrower": null, "isMainBorrower": true },
            { "name": "李婉清", "maritalStatus": "MARRIED", "relationToBorrower": "配偶", "isMainBorrower": false }
        ]),
        "the borrower is the reference of every relation"
    );
    let listed = app
        .graphql_as(("AU1", "AUDITOR"), r#"{ tasks(filter: { contractNo: "HT-ZJ-1" }) { edges { node { propertyLocation { address } } } } }"#, json!({}))
        .await;
    assert_eq!(
        data(&listed)["tasks"]["edges"][0]["node"]["propertyLocation"]["address"],
        "***",
        "an auditor's list masks the address"
    );

    for (kind, note) in [
        ("RISK_POINT", "客户回答收入来源时犹豫"),
        ("KEY_POINT", "确认借款用途"),
    ] {
        data(
            &session(
                &app,
                SEAT,
                "tagVideo",
                &format!(", kind: {kind}, note: \"{note}\""),
                json!({ "id": id }),
            )
            .await,
        );
    }
    let blank = session(
        &app,
        SEAT,
        "tagVideo",
        ", kind: OTHER, note: \"  \"",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(error_code(&blank), "VALIDATION");
    let detail = app
        .graphql_as(SEAT, "query($id: ID!) { taskDetail(id: $id) { record { videoTags { serial kind note taggedAt } } } }", json!({ "id": id }))
        .await;
    let tags = data(&detail)["taskDetail"]["record"]["videoTags"].clone();
    assert_eq!(tags.as_array().unwrap().len(), 2, "{tags}");
    assert_eq!(tags[0]["kind"], "RISK_POINT");
    assert_eq!(tags[1]["serial"], 2);
    assert_eq!(tags[1]["note"], "确认借款用途");
}

async fn doubtful(app: &TestApp, clock: &store::ShiftableClock, id: &str, hour: u32) {
    book_and_start_at(app, clock, id, hour).await;
    end_call(app, clock, id).await;
    data(&conclude(app, id, "DOUBTFUL").await);
}

async fn qc_contracts(app: &TestApp, filter: &str) -> Vec<String> {
    let response = app
        .graphql_as(
            ("Q1", "QC_REVIEWER"),
            &format!("{{ qcCases(filter: {{ {filter} }}) {{ contractNo }} }}"),
            json!({}),
        )
        .await;
    data(&response)["qcCases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["contractNo"].as_str().unwrap().to_string())
        .collect()
}

/// 001_d165f826565a3102.txt 2.4.2 视频管理: 按面谈时间、客户姓名、贷款类型、客户经理工号、
/// 面谈岗工号、房屋属地省/市/区县等条件查询 — the same filters on the QC list (2.4.3)
/// and on the task board.
async fn lists_filter_by_customer_manager_region_and_date(backend: Backend) {
    let (app, clock) = app(backend).await;
    seat(&app, "S1").await;
    let hangzhou = task_id(
        &create(
            &app,
            input("HT-QC-HZ", BORROWER, "邓小闲", "浙江省", "杭州市"),
        )
        .await,
    );
    let nanjing = task_id(
        &create(
            &app,
            input("HT-QC-NJ", OTHER_BORROWER, "王大明", "江苏省", "南京市"),
        )
        .await,
    );
    doubtful(&app, &clock, &hangzhou, 10).await;
    doubtful(&app, &clock, &nanjing, 11).await;

    assert_eq!(qc_contracts(&app, "").await.len(), 2);
    assert_eq!(
        qc_contracts(&app, "province: \"浙江省\"").await,
        ["HT-QC-HZ"]
    );
    assert_eq!(qc_contracts(&app, "city: \"南京市\"").await, ["HT-QC-NJ"]);
    assert_eq!(
        qc_contracts(&app, "customerName: \"王大明\"").await,
        ["HT-QC-NJ"]
    );
    assert_eq!(
        qc_contracts(
            &app,
            "managerId: \"M0001\", productCode: \"YXD\", seatNo: \"S1\""
        )
        .await
        .len(),
        2
    );
    assert!(qc_contracts(&app, "managerId: \"M0002\"").await.is_empty());
    assert!(qc_contracts(&app, "from: \"2099-01-01T00:00:00Z\"")
        .await
        .is_empty());
    assert_eq!(
        qc_contracts(&app, "to: \"2099-01-01T00:00:00Z\", district: \"西湖区\"")
            .await
            .len(),
        2
    );

    let board = app
        .graphql_as(
            SUPERVISOR,
            r#"{ tasks(filter: { province: "江苏省", borrowerName: "王大明" }) { edges { node { contractNo } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        data(&board)["tasks"]["edges"],
        json!([{ "node": { "contractNo": "HT-QC-NJ" } }])
    );
}

/// A customer lists the tasks they are a participant of, and nobody else's;
/// 004_448cd5ace309d8b2.txt 4.2 输入手机号: they find their work order by the
/// phone they enter — only one carrying their ID number.
async fn a_customer_finds_their_own_tasks_and_work_orders(backend: Backend) {
    let (app, _clock) = app(backend).await;
    seat(&app, "S1").await;
    create(
        &app,
        input("HT-MINE-1", BORROWER, "邓小闲", "浙江省", "杭州市"),
    )
    .await;
    create(
        &app,
        input("HT-MINE-2", OTHER_BORROWER, "王大明", "江苏省", "南京市"),
    )
    .await;
    let mine = |who: &str| {
        let app = &app;
        let who = who.to_string();
        async move {
            let listed = app
                .graphql_as(
                    (&who, "CUSTOMER"),
                    "{ tasks { edges { node { contractNo } } } }",
                    json!({}),
                )
                .await;
            let mut contracts: Vec<String> = data(&listed)["tasks"]["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["contractNo"].as_str().unwrap().to_string())
                .collect();
            contracts.sort();
            contracts
        }
    };
    assert_eq!(mine(BORROWER).await, ["HT-MINE-1"]);
    assert_eq!(mine(OTHER_BORROWER).await, ["HT-MINE-2"]);
    assert_eq!(
        mine(SPOUSE).await,
        ["HT-MINE-1", "HT-MINE-2"],
        "the spouse is on both"
    );
    assert!(mine("110105195001010012").await.is_empty());

    const CREATE: &str = r#"mutation($id: String) { createWorkOrder(input: { businessType: "YXD", customerName: "邓小闲", phone: "15618293093", idNumber: $id, caseNo: "CASE-1" }) { id } }"#;
    data(
        &app.graphql_as(("S1", "SEAT"), CREATE, json!({ "id": BORROWER }))
            .await,
    );
    let find = |who: &str, phone: &str| {
        let app = &app;
        let (who, phone) = (who.to_string(), phone.to_string());
        async move {
            app.graphql_as(
                (&who, "CUSTOMER"),
                "query($p: String) { workOrders(phone: $p) { caseNo phone } }",
                json!({ "p": phone }),
            )
            .await
        }
    };
    let found = find(BORROWER, "15618293093").await;
    assert_eq!(data(&found)["workOrders"][0]["caseNo"], "CASE-1");
    assert_eq!(
        data(&find(OTHER_BORROWER, "15618293093").await)["workOrders"],
        json!([]),
        "the same phone does not open someone else's order"
    );
    assert_eq!(
        data(&find(BORROWER, "13900000000").await)["workOrders"],
        json!([])
    );
    assert_eq!(error_code(&find(BORROWER, "12345").await), "VALIDATION");
}
