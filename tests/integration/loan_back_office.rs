//! The back office of 003 (直销银行内管: 交易量统计, 资金统计, 融信贷明细查询) and
//! the customer's paged queries (还款计划, 查询明细), issue 32 item 6, on both
//! backends: the loan list with its filters and totals, counts and amounts by
//! day, failed transactions with their reasons, a plan and movements by range,
//! and 合同下载 by e-mail through a real SMTP server.

use serde_json::{json, Value};

use crate::loan_servicing::{app, confirmed, result, shanghai_today, step};
use crate::support::loans::{
    loan_step, miaodai_application, miaodai_submitted, CORE, MIAODAI_CUSTOMER,
};
use crate::support::partners::eventually;
use crate::support::{data, error_code, on_both_backends, Backend, TestApp};

const OPS: (&str, &str) = ("SUP1", "SUPERVISOR");

on_both_backends!(
    the_back_office_lists_counts_and_pages_the_loans,
    a_signed_contract_is_emailed_as_an_encrypted_archive,
);

async fn ops(app: &TestApp, query: &str, variables: Value) -> Value {
    app.graphql_as(OPS, query, variables).await
}

async fn list(app: &TestApp, filter: Value, first: i64, after: Option<&str>) -> Value {
    let response = ops(
        app,
        "query($f: LoanListFilterInput, $first: Int!, $after: String) { loans(filter: $f, first: $first, after: $after) {
            nodes { id contractNo product route status amount termMonths branch submittedOn } totalCount endCursor
            byStatus { status loans amount } } }",
        json!({ "f": filter, "first": first, "after": after }),
    )
    .await;
    data(&response)["loans"].clone()
}

fn ids(page: &Value) -> Vec<&str> {
    page["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect()
}

async fn the_back_office_lists_counts_and_pages_the_loans(backend: Backend) {
    let (app, clock) = app(backend, None).await;
    let today = shanghai_today(&clock);
    // Paid out, failed at the core, declined, and one of branch BJ001 still applying.
    let paid = confirmed(&app, "RX-PAID").await;
    data(
        &step(
            &app,
            CORE,
            "RX-PAID",
            "recordDisbursementResult",
            &result("C-1", &paid, true, today),
        )
        .await,
    );
    let failed = confirmed(&app, "RX-FAIL").await;
    data(
        &step(
            &app,
            CORE,
            "RX-FAIL",
            "recordDisbursementResult",
            &result("C-2", &failed, false, today),
        )
        .await,
    );
    data(&miaodai_application(&app, "RX-NO", json!({})).await);
    data(&miaodai_submitted(&app, "RX-NO", "MIAODAI").await);
    data(
        &loan_step(
            &app,
            CORE,
            "RX-NO",
            "declineLoanApplication",
            ", reason: \"综合评分不足\"",
            "id",
        )
        .await,
    );
    data(&miaodai_application(&app, "RX-BJ", json!({ "branch": "BJ001" })).await);

    let by_customer = app
        .graphql_as(MIAODAI_CUSTOMER, "{ loans { totalCount } }", json!({}))
        .await;
    assert_eq!(error_code(&by_customer), "FORBIDDEN");
    eventually("the list", async || {
        list(&app, json!({}), 50, None).await["totalCount"] == 4
    })
    .await;

    // Filters: state, branch, route, submission day.
    let disbursed = list(&app, json!({ "status": "DISBURSED" }), 50, None).await;
    assert_eq!(ids(&disbursed), ["RX-PAID"]);
    assert_eq!(disbursed["nodes"][0]["amount"], "12000.00");
    assert_eq!(
        disbursed["byStatus"],
        json!([{ "status": "DISBURSED", "loans": 1, "amount": "12000.00" }])
    );
    assert_eq!(
        ids(&list(&app, json!({ "branch": "BJ001" }), 50, None).await),
        ["RX-BJ"]
    );
    let online = list(
        &app,
        json!({ "route": "AUTOMATIC", "product": "RONGXIN_MIAODAI" }),
        50,
        None,
    )
    .await;
    assert_eq!(
        online["totalCount"], 3,
        "the BJ001 application has no route yet"
    );
    let day = today.to_string();
    assert_eq!(
        list(&app, json!({ "from": day, "to": day }), 50, None).await["totalCount"],
        4
    );
    let tomorrow = (today + chrono::Days::new(1)).to_string();
    assert_eq!(
        list(&app, json!({ "from": tomorrow, "to": tomorrow }), 50, None).await["totalCount"],
        0
    );
    let half_range = ops(
        &app,
        "{ loans(filter: { from: \"2027-01-01\" }) { totalCount } }",
        json!({}),
    )
    .await;
    assert_eq!(error_code(&half_range), "VALIDATION");
    // Paging by id.
    let first = list(&app, json!({}), 3, None).await;
    assert_eq!(ids(&first), ["RX-BJ", "RX-FAIL", "RX-NO"]);
    let rest = list(&app, json!({}), 3, first["endCursor"].as_str()).await;
    assert_eq!(ids(&rest), ["RX-PAID"]);
    assert!(rest["endCursor"].is_null());
    let all = list(&app, json!({}), 50, None).await;
    let statuses: Vec<&str> = all["byStatus"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["APPLYING", "AWAITING_DISBURSEMENT", "DECLINED", "DISBURSED"]
    );

    // Counts and amounts of the day, and the failures with their reasons.
    let report = ops(
        &app,
        "query($d: String!) { loanOperationsReport(from: $d, to: $d) { days { day approved declined disbursed { count amount }
            disbursementFailed repaid { count amount } repaymentFailed { count } overdue { count } settled } } }",
        json!({ "d": day }),
    )
    .await;
    let days = data(&report)["loanOperationsReport"]["days"].clone();
    assert_eq!(days.as_array().unwrap().len(), 1);
    let d = &days[0];
    assert_eq!(d["day"], day.as_str());
    assert_eq!(d["approved"], 2);
    assert_eq!(d["declined"], 1);
    assert_eq!(d["disbursed"], json!({ "count": 1, "amount": "12000.00" }));
    assert_eq!(d["disbursementFailed"], 1);
    assert_eq!(d["repaid"], json!({ "count": 0, "amount": "0.00" }));
    let too_long = ops(
        &app,
        "{ loanOperationsReport(from: \"2026-01-01\", to: \"2027-06-01\") { days { day } } }",
        json!({}),
    )
    .await;
    assert_eq!(error_code(&too_long), "VALIDATION");
    let failures = ops(
        &app,
        "query($d: String!) { loanFailedTransactions(from: $d, to: $d) { kind loanId reason } }",
        json!({ "d": day }),
    )
    .await;
    assert_eq!(
        data(&failures)["loanFailedTransactions"],
        json!([{ "kind": "DISBURSEMENT_FAILED", "loanId": "RX-FAIL", "reason": "账户状态异常" }])
    );

    // 还款计划 by page and by range; 查询明细 by range.
    let plan = |args: &str| {
        let app = &app;
        let query = format!("{{ loanRepaymentPlan(id: \"RX-PAID\"{args}) {{ totalCount periods {{ period dueDate }} }} }}");
        async move { app.graphql_as(MIAODAI_CUSTOMER, &query, json!({})).await }
    };
    let whole = plan("").await;
    assert_eq!(data(&whole)["loanRepaymentPlan"]["totalCount"], 12);
    assert_eq!(
        data(&whole)["loanRepaymentPlan"]["periods"]
            .as_array()
            .unwrap()
            .len(),
        12,
        "a page of 12"
    );
    let page = plan(", first: 3, offset: 3").await;
    let periods: Vec<i64> = data(&page)["loanRepaymentPlan"]["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["period"].as_i64().unwrap())
        .collect();
    assert_eq!(periods, [4, 5, 6]);
    let first_due = data(&whole)["loanRepaymentPlan"]["periods"][0]["dueDate"]
        .as_str()
        .unwrap()
        .to_string();
    let third_due = data(&whole)["loanRepaymentPlan"]["periods"][2]["dueDate"]
        .as_str()
        .unwrap()
        .to_string();
    let ranged = plan(&format!(", from: \"{first_due}\", to: \"{third_due}\"")).await;
    assert_eq!(data(&ranged)["loanRepaymentPlan"]["totalCount"], 3);
    let only_from = plan(&format!(", from: \"{first_due}\"")).await;
    assert_eq!(
        error_code(&only_from),
        "VALIDATION",
        "003: 起止日期为必输项"
    );
    let stranger = app
        .graphql_as(
            ("110101199003077777", "CUSTOMER"),
            "{ loanRepaymentPlan(id: \"RX-PAID\") { totalCount } }",
            json!({}),
        )
        .await;
    assert!(
        data(&stranger)["loanRepaymentPlan"].is_null(),
        "another's loan looks absent"
    );
    let moves = app
        .graphql_as(MIAODAI_CUSTOMER, "{ loanTransactions(id: \"RX-PAID\") { from to totalCount transactions { kind amount } } }", json!({}))
        .await;
    let moves = &data(&moves)["loanTransactions"];
    assert_eq!(moves["to"], day.as_str(), "the last month by default");
    assert_eq!(moves["totalCount"], 1);
    assert_eq!(moves["transactions"][0]["kind"], "DISBURSEMENT");
    let year_and_more = app
        .graphql_as(MIAODAI_CUSTOMER, "{ loanTransactions(id: \"RX-PAID\", from: \"2026-01-01\", to: \"2027-01-02\") { totalCount } }", json!({}))
        .await;
    assert_eq!(
        error_code(&year_and_more),
        "VALIDATION",
        "003: 支持任意时间的一年范围内"
    );
    app.stop().await;
}

/// 003 合同下载: 页面弹出让客户输入邮箱页面…输入交易密码，进行身份校验…在“申请记录”中
/// 可以查看邮件发送状态、业务申请时间、文件解压码…邮件中的附件为压缩文件格式，密码为
/// 解压码. The transaction password is checked by the verification service, once
/// per request; a bad address leaves no record; the archive arrives at a real
/// SMTP server and opens with the 解压码 only.
async fn a_signed_contract_is_emailed_as_an_encrypted_archive(backend: Backend) {
    let mail = crate::support::mail::MailServer::start().await;
    let port = mail.port;
    let clock = std::sync::Arc::new(store::ShiftableClock::default());
    let server_clock = clock.clone();
    let app = TestApp::spawn_on(crate::support::TestDb::new(backend).await, move |url| {
        let mut settings = crate::support::settings(url);
        settings.clock = server_clock;
        settings.smtp = Some(workers::contract_mail::SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            from: "contracts@facesign.bank".into(),
        });
        settings
    })
    .await;
    let request = confirmed(&app, "RX-MAIL").await;
    let today = shanghai_today(&clock);
    data(
        &step(
            &app,
            CORE,
            "RX-MAIL",
            "recordDisbursementResult",
            &result("C-M", &request, true, today),
        )
        .await,
    );

    let ask = |email: &str| {
        let app = &app;
        let query = format!("mutation {{ requestContractDownload(id: \"RX-MAIL\", email: \"{email}\") {{ loan {{ id }} }} }}");
        async move { app.graphql_as(MIAODAI_CUSTOMER, &query, json!({})).await }
    };
    let records = || {
        let app = &app;
        async move {
            let response = app
                .graphql_as(MIAODAI_CUSTOMER, "{ contractDownloads(id: \"RX-MAIL\") { requestId email archivePassword status requestedAt failure } }", json!({}))
                .await;
            data(&response)["contractDownloads"]
                .as_array()
                .unwrap()
                .clone()
        }
    };
    let verify = || {
        let app = &app;
        async move {
            let verifier = crate::support::VERIFIER;
            data(
                &loan_step(
                    app,
                    verifier,
                    "RX-MAIL",
                    "recordLoanVerification",
                    ", purpose: CONTRACT_DOWNLOAD, passed: true",
                    "id",
                )
                .await,
            );
        }
    };
    let unverified = ask("wang@example.com").await;
    assert_eq!(
        error_code(&unverified),
        "INVALID_TRANSITION",
        "003: 都需输入交易密码"
    );
    verify().await;
    let bad = ask("wang@example").await;
    assert_eq!(error_code(&bad), "VALIDATION");
    assert!(
        bad["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("请输入正确的电子邮箱"),
        "{bad}"
    );
    assert!(records().await.is_empty(), "003: 下载失败，则无申请记录");
    data(&ask("wang.jianguo@example.com").await);
    let again = ask("wang.jianguo@example.com").await;
    assert_eq!(
        error_code(&again),
        "INVALID_TRANSITION",
        "one check per request"
    );

    eventually("the contract e-mail sent", async || {
        records()
            .await
            .first()
            .is_some_and(|r| r["status"] == "SENT")
    })
    .await;
    let record = records().await[0].clone();
    assert_eq!(record["email"], "wang.jianguo@example.com");
    let password = record["archivePassword"].as_str().unwrap().to_string();
    assert_eq!(password.len(), 12);
    let by_supervisor = app
        .graphql_as(
            OPS,
            "{ contractDownloads(id: \"RX-MAIL\") { email archivePassword } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&by_supervisor)["contractDownloads"][0]["email"],
        "w***@example.com"
    );
    assert_eq!(
        data(&by_supervisor)["contractDownloads"][0]["archivePassword"],
        "******"
    );

    let messages = mail.messages();
    assert_eq!(messages.len(), 1);
    assert!(messages[0].contains("wang.jianguo@example.com"));
    let archive = crate::support::mail::attachment(&messages[0], "application/zip")
        .expect("a zip attachment");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(archive)).unwrap();
    assert!(
        zip.by_name_decrypt("contract.txt", b"WRONGPASSWORD")
            .is_err(),
        "the 解压码 is needed"
    );
    let mut contract = String::new();
    std::io::Read::read_to_string(
        &mut zip
            .by_name_decrypt("contract.txt", password.as_bytes())
            .unwrap(),
        &mut contract,
    )
    .unwrap();
    assert!(contract.contains("合同号: HT-RX-MAIL"), "{contract}");
    assert!(contract.contains("执行年利率: 0.06"), "{contract}");
    let mut records_json = String::new();
    std::io::Read::read_to_string(
        &mut zip
            .by_name_decrypt("records.json", password.as_bytes())
            .unwrap(),
        &mut records_json,
    )
    .unwrap();
    let records_json: Value = serde_json::from_str(&records_json).unwrap();
    assert!(records_json["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "SIGNATURE"));
    app.stop().await;
}
