//! The browser console at `/console`, driven in Debian's headless Chromium
//! through chromedriver (WebDriver). One tab watches the task board as a
//! supervisor while another works the task through the console as the account
//! manager, the seat, the QC reviewer and the auditor, each logged in with a
//! token of their own. Screenshots of every page go to
//! `target/console-screenshots/` (docs/console.md shows them).
//!
//! Needs `chromium` and `chromedriver` (`apt-get install chromium
//! chromium-driver`; `scripts/test` installs them) and fails, never skips, without.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use fantoccini::wd::WindowHandle;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::support::loans::{advance, passed_at_interview};
use crate::support::partners::{self, eventually, order_in_credit, produce, FakePartner};
use crate::support::scheduling::seat;
use crate::support::session::app_with_clock;
use crate::support::{data, token, Backend, Broker, TestApp};

const WAIT: Duration = Duration::from_secs(20);

fn executable(env: &str, name: &str) -> PathBuf {
    if let Ok(path) = std::env::var(env) {
        return PathBuf::from(path);
    }
    let found = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .find(|candidate| candidate.is_file());
    found.unwrap_or_else(|| {
        panic!(
            "{name} not found (set {env} or `apt-get install chromium chromium-driver`; scripts/test installs it)"
        )
    })
}

/// chromedriver on a free port and one Chromium session through it.
struct Browser {
    driver: Child,
    client: Client,
    base: String,
    shots: PathBuf,
}

impl Browser {
    async fn start(base: &str) -> Self {
        let chromium = executable("CHROMIUM", "chromium");
        let chromedriver = executable("CHROMEDRIVER", "chromedriver");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + WAIT;
        while reqwest::get(format!("{url}/status")).await.is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                         "--window-size=1360,1000", "--lang=zh-CN", "--hide-scrollbars"]
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&url)
            .await
            .expect("a Chromium session");
        let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/console-screenshots");
        std::fs::create_dir_all(&shots).expect("screenshot directory");
        Self {
            driver,
            client,
            base: base.to_string(),
            shots,
        }
    }

    async fn shot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(self.shots.join(format!("{name}.png")), png).expect("screenshot written");
    }

    /// Polls `script` (a JavaScript expression) until it is true; on timeout,
    /// saves a screenshot and fails with `what`.
    async fn wait_until(&self, script: &str, what: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let value = self
                .client
                .execute(&format!("return Boolean({script});"), vec![])
                .await
                .unwrap_or(Value::Bool(false));
            if value == Value::Bool(true) {
                return;
            }
            if Instant::now() > deadline {
                self.shot("failure").await;
                let banner = self.text("#banner").await;
                panic!("timed out waiting for {what} (banner: {banner:?}; see target/console-screenshots/failure.png)");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Opens `hash` (e.g. `#/board`) and waits until the console has drawn it.
    async fn open(&self, hash: &str) {
        self.client
            .goto(&format!("{}/console{hash}", self.base))
            .await
            .expect("navigate");
        self.wait_rendered(hash).await;
    }

    async fn wait_rendered(&self, hash: &str) {
        self.wait_until(
            &format!(
                "(document.body.dataset.rendered || '').startsWith({}) && location.hash === {}",
                json!(format!("{hash}#")),
                json!(hash)
            ),
            &format!("the page {hash}"),
        )
        .await;
    }

    /// Waits for a fresh render of the current address (after a mutation).
    async fn wait_rerendered(&self, since: &str) {
        self.wait_until(
            &format!("document.body.dataset.rendered !== {}", json!(since)),
            "the page to redraw",
        )
        .await;
    }

    async fn rendered(&self) -> String {
        self.client
            .execute("return document.body.dataset.rendered || '';", vec![])
            .await
            .expect("script")
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    async fn click(&self, css: &str) {
        self.wait_until(
            &format!("document.querySelector({})", json!(css)),
            &format!("{css} to appear"),
        )
        .await;
        self.client
            .find(Locator::Css(css))
            .await
            .expect("element")
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Clicks `css` and waits for the page the click redraws.
    async fn click_and_redraw(&self, css: &str) {
        let before = self.rendered().await;
        self.click(css).await;
        self.wait_rerendered(&before).await;
        self.assert_no_error().await;
    }

    async fn fill(&self, css: &str, text: &str) {
        let element = self.client.find(Locator::Css(css)).await.expect(css);
        element.clear().await.expect("clear");
        element.send_keys(text).await.expect("type");
    }

    async fn text(&self, css: &str) -> String {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    async fn wait_text(&self, css: &str, expected: &str) {
        self.wait_until(
            &format!(
                "(document.querySelector({}) || {{}}).textContent?.includes({})",
                json!(css),
                json!(expected)
            ),
            &format!("{css} to show {expected:?}"),
        )
        .await;
    }

    async fn assert_no_error(&self) {
        let error = self
            .client
            .execute(
                "const b = document.querySelector('#banner'); return b.hidden || b.className === 'info' ? '' : b.textContent;",
                vec![],
            )
            .await
            .expect("script");
        assert_eq!(error, json!(""), "the console shows an error");
    }

    /// Fills the admin page's new-channel form and submits it.
    async fn submit_channel(&self, code: &str, name: &str) {
        self.fill("#createChannel-form [name=code]", code).await;
        self.fill("#createChannel-form [name=name]", name).await;
        self.click("#createChannel-form button[type=submit]").await;
    }

    /// Logs in on the login page with a token for `actor`.
    async fn login(&self, actor: (&str, &str)) {
        self.login_with(actor.0, &token(actor.0, actor.1)).await;
    }

    /// Logs in on the login page with `bearer`, whose subject is `who`.
    async fn login_with(&self, who: &str, bearer: &str) {
        self.client
            .goto(&format!("{}/console#/login", self.base))
            .await
            .expect("navigate");
        self.wait_until("document.querySelector('#token')", "the login form")
            .await;
        self.fill("#token", bearer).await;
        self.click("#login-submit").await;
        self.wait_until(
            &format!(
                "document.querySelector('#who').textContent.startsWith({})",
                json!(who)
            ),
            "the logged-in header",
        )
        .await;
    }

    async fn logout(&self) {
        self.click("#logout").await;
        self.wait_until("document.querySelector('#token')", "the login form")
            .await;
    }

    async fn new_tab(&self) -> WindowHandle {
        let tab = self.client.new_window(true).await.expect("new tab");
        self.client
            .switch_to_window(tab.handle.clone())
            .await
            .expect("switch tab");
        tab.handle
    }

    async fn switch(&self, tab: &WindowHandle) {
        self.client
            .switch_to_window(tab.clone())
            .await
            .expect("switch tab");
    }

    async fn stop(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

async fn task(app: &TestApp, id: &str) -> Value {
    let response = app
        .graphql_as(
            ("SV1", "SUPERVISOR"),
            "query($id: ID!) { task(id: $id) { status appointmentStart seatNo } }",
            json!({ "id": id }),
        )
        .await;
    data(&response)["task"].clone()
}

/// 001_d165f826565a3102.txt 2.3.1 / 2.4.3 and 004_448cd5ace309d8b2.txt, in the
/// browser: the account manager creates a task and books it in the console; the
/// seat starts it, ends the call and concludes 存疑; the QC reviewer claims the
/// case and rejects it with two 拒件原因 and a comment. A supervisor's board in
/// another tab follows every step live, without a reload; the task's timeline
/// and the auditor's trail and feed show the events; every page is shot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_worked_through_the_console_from_creation_to_qc_rejection() {
    let _machine = crate::support::WHOLE_MACHINE.lock().await;
    let (app, clock) = app_with_clock(Backend::Sqlite, 0).await;
    seat(&app, "S1").await;
    let browser = Browser::start(&app.base).await;

    // Tab one: the supervisor's board, live.
    let board_tab = browser.client.window().await.expect("first tab");
    browser.login(("SV1", "SUPERVISOR")).await;
    browser.open("#/board").await;
    browser.wait_text("#live", "实时").await;
    browser
        .client
        .execute("window.sameDocument = 'board';", vec![])
        .await
        .expect("mark the document");

    // Tab two: the account manager creates and books the task.
    let work_tab = browser.new_tab().await;
    browser.login(("M0001", "ACCOUNT_MANAGER")).await;
    browser.open("#/new").await;
    browser.shot("02-new-task").await;
    browser
        .fill("#new-task-form [name=contractNo]", "HT-CONSOLE-1")
        .await;
    browser.fill("#participants [name=name]", "邓小闲").await;
    browser
        .fill("#participants [name=idNumber]", "410102198503121017")
        .await;
    browser
        .fill("#participants [name=phone]", "15618293093")
        .await;
    // 001 2.3.1: marital status per participant and the property's place.
    browser
        .client
        .find(Locator::Css("#participants [name=maritalStatus]"))
        .await
        .expect("marital status select")
        .select_by_value("MARRIED")
        .await
        .expect("choose MARRIED");
    browser
        .fill("#new-task-form [name=province]", "广东省")
        .await;
    browser.fill("#new-task-form [name=city]", "深圳市").await;
    browser
        .fill("#new-task-form [name=district]", "南山区")
        .await;
    browser.click("#create-task").await;
    browser
        .wait_until("location.hash.startsWith('#/task/')", "the new task's page")
        .await;
    let hash: String = browser
        .client
        .execute("return location.hash;", vec![])
        .await
        .expect("hash")
        .as_str()
        .unwrap()
        .to_string();
    let task_id = hash.trim_start_matches("#/task/").to_string();
    browser.wait_rendered(&hash).await;
    browser.wait_text("h1", "待面谈").await;
    assert!(
        browser.text("main").await.contains("410102198503121017"),
        "the account manager sees the borrower's ID number in clear, as in the API"
    );
    let page = browser.text("main").await;
    assert!(
        page.contains("已婚") && page.contains("广东省 深圳市 南山区"),
        "the form's marital status and property place are on the task: {page}"
    );
    browser.click_and_redraw("#slots button").await;
    let first_booking = task(&app, &task_id).await["appointmentStart"].clone();
    assert!(first_booking.is_string(), "booked through the console");
    // 001: one reschedule, to the next free slot, counted on the task.
    browser.click("#reschedule summary").await;
    browser
        .click_and_redraw("#reschedule #slots button:nth-child(2)")
        .await;
    browser.wait_text("main", "改约次数1").await;
    let booked = task(&app, &task_id).await;
    assert_ne!(booked["appointmentStart"], first_booking, "moved");
    let start: DateTime<Utc> = booked["appointmentStart"]
        .as_str()
        .expect("booked through the console")
        .parse()
        .unwrap();
    assert_eq!(booked["seatNo"], "S1");
    browser.shot("03-task-booked").await;
    // Issue 23 item 6: the timeline names events in the bank's words, the
    // stored name beside them.
    browser.wait_text("#timeline", "预约已确认").await;
    browser.wait_text("#timeline", "AppointmentConfirmed").await;

    // The board saw the new task and its booking live.
    browser.switch(&board_tab).await;
    let row = format!("#board tr[data-task=\"{task_id}\"]");
    browser.wait_text(&row, "HT-CONSOLE-1").await;
    browser.wait_text(&row, "S1").await;

    // The seat, in the window: start, end the call, conclude 存疑.
    clock.advance(start + chrono::Duration::minutes(1) - Utc::now());
    browser.switch(&work_tab).await;
    browser.logout().await;
    browser.login(("S1", "SEAT")).await;
    // 001: the seat signs in (空闲), takes a break (暂放) and comes back.
    browser.open("#/calendar?seat=S1").await;
    browser.wait_text("#seat-status", "未签入").await;
    browser
        .click_and_redraw("#seat-status button[data-op=signIn]")
        .await;
    browser.wait_text("#seat-status", "空闲").await;
    browser
        .click_and_redraw("#seat-status button[data-op=setPresence]")
        .await;
    browser.wait_text("#seat-status", "暂放").await;
    browser
        .click_and_redraw("#seat-status button[data-op=setPresence]")
        .await;
    browser.wait_text("#seat-status", "空闲").await;
    browser.open(&hash).await;
    browser.click_and_redraw("#start-interview").await;
    browser.wait_text("h1", "处理中").await;
    // The video platform reports a snapshot and a pushed document (API); the
    // seat writes a remark in the console; the detail page shows all three.
    for (mutation, args) in [
        (
            "captureSnapshot",
            "category: HOLDING_ID_CARD, storageRef: \"blob://snap-1\"",
        ),
        (
            "pushDocument",
            "documentId: \"DOC-1\", name: \"面谈确认书.pdf\"",
        ),
    ] {
        data(
            &app.graphql_as(
                ("S1", "SEAT"),
                &format!("mutation($id: ID!) {{ {mutation}(taskId: $id, {args}) {{ taskId }} }}"),
                json!({ "id": task_id }),
            )
            .await,
        );
    }
    // 001 2.2.1 多席呼入: the borrower's phone joins the room; the seat sees who is in.
    crate::support::dispatch::open_channel(&app, true).await;
    data(
        &app.graphql_as(
            ("410102198503121017", "CUSTOMER"),
            "mutation($id: ID!) { joinInterview(taskId: $id, input: { channelCode: \"YYZX\" }) { taskId } }",
            json!({ "id": task_id }),
        )
        .await,
    );
    browser.open(&hash).await;
    browser
        .fill("#remark-form textarea", "客户对利率有异议")
        .await;
    browser
        .click_and_redraw("#remark-form button[type=submit]")
        .await;
    browser.wait_text("#remarks", "客户对利率有异议").await;
    browser.wait_text("#room", "邓小闲").await;
    browser.wait_text("#room", "在场").await;
    let page = browser.text("main").await;
    assert!(
        page.contains("手持身份证照片") && page.contains("blob://snap-1"),
        "{page}"
    );
    assert!(
        page.contains("面谈确认书.pdf") && page.contains("待签署"),
        "{page}"
    );
    // The call lasts five minutes.
    clock.advance(chrono::Duration::minutes(5));
    browser.click_and_redraw("#end-call").await;
    browser.click_and_redraw("#conclude-doubtful").await;
    browser.wait_text("h1", "存疑").await;
    assert_eq!(task(&app, &task_id).await["status"], "PENDING_QC");
    browser.shot("04-task-doubtful").await;

    browser.switch(&board_tab).await;
    browser.wait_text(&row, "存疑").await;

    // The QC reviewer claims the case and rejects it with two reasons.
    browser.switch(&work_tab).await;
    browser.logout().await;
    browser.login(("R1", "QC_REVIEWER")).await;
    browser.open("#/qc").await;
    let case_row = format!("tr[data-task=\"{task_id}\"]");
    browser
        .click_and_redraw(&format!("{case_row} button.claim"))
        .await;
    browser
        .wait_until(
            "document.querySelector('form.decision')",
            "the decision form",
        )
        .await;
    browser.click("form.decision input[value=REJECT]").await;
    // 001 2.4.3.1: a rejection needs its reasons; refused with the API's code,
    // nothing changes and the form keeps what was entered.
    browser.click("form.decision button[type=submit]").await;
    browser.wait_text("#banner", "[VALIDATION]").await;
    assert!(browser.text(&case_row).await.contains("审核中"));
    browser
        .click("form.decision input[value=NO_STABLE_INCOME]")
        .await;
    browser
        .click("form.decision input[value=GAMBLING_OR_DRUGS]")
        .await;
    browser
        .fill("form.decision [name=comment]", "收入证明无法核实")
        .await;
    browser.shot("05-qc-decision").await;
    browser
        .click_and_redraw("form.decision button[type=submit]")
        .await;
    browser.wait_text(&case_row, "家庭无稳定收入来源").await;
    browser.wait_text(&case_row, "有赌博、吸毒等恶习").await;
    browser.shot("06-qc-decided").await;
    let qc = app
        .graphql_as(
            ("R1", "QC_REVIEWER"),
            "query($id: ID) { qcCases(filter: { taskId: $id }) { status passed reasons comment } }",
            json!({ "id": task_id }),
        )
        .await;
    assert_eq!(
        data(&qc)["qcCases"][0],
        json!({ "status": "DECIDED", "passed": false, "reasons": ["NO_STABLE_INCOME", "GAMBLING_OR_DRUGS"], "comment": "收入证明无法核实" })
    );

    // The board followed, in the same document (no reload).
    browser.switch(&board_tab).await;
    browser.wait_text(&row, "已面谈（面谈拒绝）").await;
    let same = browser
        .client
        .execute("return window.sameDocument;", vec![])
        .await
        .expect("script");
    assert_eq!(same, json!("board"), "the board updated without a reload");
    browser.shot("01-board").await;

    // The task's timeline shows the whole story.
    browser.switch(&work_tab).await;
    browser.open(&hash).await;
    for event in [
        "InterviewTaskCreated",
        "AppointmentConfirmed",
        "InterviewStarted",
        "InterviewConcluded",
        "QcRejected",
    ] {
        browser
            .wait_until(
                &format!("document.querySelector('#timeline li[data-event={event}]')"),
                &format!("{event} on the timeline"),
            )
            .await;
    }
    // The engine rejected the task for the reviewer, and says so.
    browser
        .wait_until(
            "document.querySelector('#timeline li[data-event=QcRejected]').textContent.includes('代 R1')",
            "the rejection names the reviewer it was made for",
        )
        .await;
    browser.shot("07-task-rejected").await;

    // The auditor: the task's trail, its state before the conclusion, the feed.
    browser.logout().await;
    browser.login(("AU1", "AUDITOR")).await;
    let audit = format!("#/audit?type=interview-task&id={task_id}");
    browser.open(&audit).await;
    browser.wait_text("#trail", "QcRejected").await;
    browser.wait_text("#as-of", "\"REJECTED\"").await;
    browser.wait_text("#feed", "QcCaseDecided").await;
    browser.shot("08-audit").await;
    // As of a minute before the task was concluded: still in progress.
    let trail = app
        .graphql_as(
            ("AU1", "AUDITOR"),
            "query($id: String!) { auditTrail(aggregateType: \"interview-task\", aggregateId: $id) { eventType recordedAt position } }",
            json!({ "id": task_id }),
        )
        .await;
    let conclusion = data(&trail)["auditTrail"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["eventType"] == "InterviewConcluded")
        .expect("concluded")
        .clone();
    let concluded: DateTime<Utc> = conclusion["recordedAt"].as_str().unwrap().parse().unwrap();
    let before = (concluded - chrono::Duration::minutes(1))
        .with_timezone(&domain::schedule::shanghai())
        .format("%Y-%m-%dT%H:%M:%S");
    browser.open(&format!("{audit}&at={before}")).await;
    browser.wait_text("#as-of", "\"IN_PROGRESS\"").await;
    // What the reviewer did; the feed from the conclusion on.
    browser.open("#/audit?actor=R1").await;
    browser.wait_text("#actor-trail", "QcCaseClaimed").await;
    browser.wait_text("#actor-trail", "QcCaseDecided").await;
    // ...including the task's rejection the engine wrote for them.
    browser.wait_text("#actor-trail", "QcRejected").await;
    // 操作留痕: the reviewer's refused decision (no reasons) is in the
    // operation log, and so are the reads of the borrower's personal data.
    browser.open("#/audit?opActor=R1&opKind=REFUSED").await;
    browser
        .wait_text("#operation-log", "Mutation.decideQcCase")
        .await;
    browser.wait_text("#operation-log", "VALIDATION").await;
    browser.open("#/audit?opKind=PERSONAL_DATA_READ").await;
    browser
        .wait_text("#operation-log", "participants.name")
        .await;
    browser.shot("08b-operation-log").await;
    let after = conclusion["position"].as_str().unwrap();
    browser.open(&format!("#/audit?feedAfter={after}")).await;
    browser.wait_text("#feed", "QcCaseOpened").await;
    assert!(
        !browser.text("#feed").await.contains("InterviewTaskCreated"),
        "the feed starts after the given position"
    );
    // Every aggregate can be looked up, the QC case included.
    browser
        .click_and_redraw("#feed a[href*='type=qc-case']")
        .await;
    browser.wait_text("#trail", "QcCaseDecided").await;
    browser.wait_text("#trail", "质检已审核").await;
    browser.wait_text("#as-of", "\"DECIDED\"").await;
    // The auditor sees personal data masked, exactly as the API masks it.
    browser.open(&hash).await;
    let page = browser.text("main").await;
    assert!(
        page.contains("邓*闲") && page.contains("410102********1017"),
        "{page}"
    );
    assert!(
        !page.contains("邓小闲") && !page.contains("410102198503121017"),
        "{page}"
    );

    // The lineage, the calendar and the dashboard, as the supervisor.
    browser.logout().await;
    browser.login(("SV1", "SUPERVISOR")).await;
    browser.open("#/lineage/HT-CONSOLE-1").await;
    browser
        .wait_until(
            &format!("document.querySelector('#lineage-chart [data-task=\"{task_id}\"]')"),
            "the task in the lineage chart",
        )
        .await;
    let week = start
        .with_timezone(&domain::schedule::shanghai())
        .format("%Y-%m-%d");
    browser
        .open(&format!("#/calendar?seat=S1&week={week}"))
        .await;
    browser
        .wait_until(
            &format!("document.querySelector('#week .booking[data-task=\"{task_id}\"]')"),
            "the booking on the week grid",
        )
        .await;
    browser.shot("10-calendar").await;
    // The range ends on the day of the conclusion (the test's clock may be
    // past the browser's today in Beijing, after the day's last slot).
    let concluded_day = (start + chrono::Duration::minutes(6))
        .with_timezone(&domain::schedule::shanghai())
        .format("%Y-%m-%d");
    browser
        .open(&format!("#/dashboard?to={concluded_day}"))
        .await;
    browser.wait_text("#totals", "存疑").await;
    browser
        .wait_until(
            "document.querySelectorAll('#chart-outcomes rect[data-key=doubtful]').length === 1",
            "the doubtful bar",
        )
        .await;
    browser.shot("11-dashboard").await;

    // The board's appointment-day filter (Beijing days).
    let day = start
        .with_timezone(&domain::schedule::shanghai())
        .date_naive();
    browser
        .open(&format!("#/board?from={day}&to={day}&status=REJECTED"))
        .await;
    browser.wait_text(&row, "HT-CONSOLE-1").await;
    let next = day.succ_opt().unwrap();
    browser
        .open(&format!("#/board?from={next}&to={next}"))
        .await;
    assert!(
        !browser.text("#board").await.contains("HT-CONSOLE-1"),
        "an appointment outside the days is filtered out"
    );

    // English, switched in the header.
    browser.click("#lang").await;
    browser.wait_text("#nav", "Task board").await;
    browser.open("#/board").await;
    browser.wait_text(&row, "Rejected").await;
    browser.shot("12-board-english").await;
    browser.click("#lang").await;
    browser.wait_text("#nav", "任务看板").await;

    // The admin: a channel created, enabled and disabled through the console.
    browser.logout().await;
    browser.login(("AD1", "ADMIN")).await;
    browser.open("#/admin/channels").await;
    browser
        .fill("#createChannel-form [name=code]", "WXYH")
        .await;
    browser
        .fill("#createChannel-form [name=name]", "微信银行")
        .await;
    browser
        .click_and_redraw("#createChannel-form button[type=submit]")
        .await;
    // 001: a new channel starts disabled; enable it, then disable it again.
    browser
        .click_and_redraw("tr[data-channel=WXYH] button[data-op=enableChannel]")
        .await;
    browser
        .click_and_redraw("tr[data-channel=WXYH] button[data-op=disableChannel]")
        .await;
    browser
        .wait_until(
            "document.querySelector('tr[data-channel=WXYH] button[data-op=enableChannel]')",
            "the channel disabled",
        )
        .await;
    let channels = app
        .graphql_as(
            ("AD1", "ADMIN"),
            "{ channels(code: \"WXYH\") { name enabled } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&channels)["channels"],
        json!([{ "name": "微信银行", "enabled": false }])
    );
    browser.shot("13-admin-channels").await;
    // A script (the first is the default), a clip enabled, an account kicked out.
    browser.open("#/admin/scripts").await;
    browser.fill("#addScript-form [name=code]", "SC-1").await;
    browser
        .fill("#addScript-form [name=productCode]", "YXD")
        .await;
    browser
        .fill(
            "#addScript-form [name=content]",
            "您好，这里是远程视频面谈。",
        )
        .await;
    browser
        .click_and_redraw("#addScript-form button[type=submit]")
        .await;
    browser
        .wait_text("tr[data-script=SC-1]", "远程视频面谈")
        .await;
    browser.shot("14-admin-scripts").await;
    browser.open("#/admin/media").await;
    browser.fill("#createMedia-form [name=code]", "MV-1").await;
    browser
        .fill("#createMedia-form [name=title]", "永续贷产品介绍")
        .await;
    browser
        .fill(
            "#createMedia-form [name=url]",
            "https://cdn.example.cn/mv-1.mp4",
        )
        .await;
    browser.click("#createMedia-form [name=noSkip]").await;
    browser
        .click_and_redraw("#createMedia-form button[type=submit]")
        .await;
    browser
        .click_and_redraw("tr[data-media=MV-1] button[data-op=enableMedia]")
        .await;
    browser
        .wait_until(
            "document.querySelector('tr[data-media=MV-1] button[data-op=disableMedia]')",
            "the clip enabled",
        )
        .await;
    browser.shot("14-admin-media").await;
    browser.open("#/admin/accounts").await;
    browser
        .fill("#createAccount-form [name=login]", "seat-007")
        .await;
    browser
        .fill("#createAccount-form [name=name]", "王坐席")
        .await;
    browser
        .client
        .find(Locator::Css("#createAccount-form [name=role]"))
        .await
        .expect("role select")
        .select_by_value("SEAT")
        .await
        .expect("choose SEAT");
    browser
        .click_and_redraw("#createAccount-form button[type=submit]")
        .await;
    browser
        .click_and_redraw("tr[data-account=seat-007] button[data-op=kickAccount]")
        .await;
    browser.shot("14-admin-accounts").await;
    let catalog = app
        .graphql_as(
            ("AD1", "ADMIN"),
            "{ scripts { code isDefault } mediaAssets(enabledOnly: true) { code noSkip } accounts { login role status } }",
            json!({}),
        )
        .await;
    let catalog = data(&catalog);
    assert_eq!(
        catalog["scripts"],
        json!([{ "code": "SC-1", "isDefault": true }])
    );
    assert_eq!(
        catalog["mediaAssets"],
        json!([{ "code": "MV-1", "noSkip": true }])
    );
    assert_eq!(
        catalog["accounts"],
        json!([{ "login": "seat-007", "role": "SEAT", "status": "ACTIVE" }])
    );

    // A refused command shows the API's code and changes nothing.
    browser.open("#/admin/channels").await;
    browser.submit_channel("WXYH", "重复").await;
    browser.wait_text("#banner", "[").await;
    let banner = browser.text("#banner").await;
    assert!(
        banner.contains("INVALID_TRANSITION")
            || banner.contains("CONFLICT")
            || banner.contains("VALIDATION"),
        "a duplicate channel is refused with a code: {banner}"
    );

    browser.stop().await;
    app.stop().await;
}

/// 002_3f74b53a30b682f3.txt: a partner's callback that kept failing is an
/// incident on the console's incidents page; once the partner is back, the
/// admin retries it there and it is delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_callback_is_retried_from_the_incidents_page() {
    let _machine = crate::support::WHOLE_MACHINE.lock().await;
    let broker = Broker::start().await;
    let partner = FakePartner::default();
    partner.always_fail.store(true, Ordering::SeqCst);
    let app = partners::app(&broker, &partner.start().await).await;
    order_in_credit(&app, "RS-C1", "310115199001013035").await;
    let refusal = json!({ "messageId": "m-c1", "partner": "RONGSHU", "orderNo": "RS-C1", "approved": false, "reason": "资质不符" });
    produce(&broker.address, "RS-C1", &refusal.to_string()).await;
    let admin = ("AD1", "ADMIN");
    let failed = async || {
        let response = app
            .graphql_as(admin, "{ callbacks(status: FAILED) { id } }", json!({}))
            .await;
        data(&response)["callbacks"].as_array().unwrap().len()
    };
    eventually("the callback became an incident", async || {
        failed().await == 1
    })
    .await;

    let browser = Browser::start(&app.base).await;
    browser.login(admin).await;
    browser.open("#/incidents").await;
    let row = "tr[data-callback]";
    browser.wait_text(row, "HTTP 503").await;
    browser.wait_text(row, "失败").await;
    // Beside the callbacks, the events workers parked: none here.
    browser.wait_text(".parked-none", "没有暂存的事件").await;
    browser.shot("15-incidents").await;

    partner.always_fail.store(false, Ordering::SeqCst);
    browser
        .click_and_redraw(&format!("{row} button.retry"))
        .await;
    eventually("the retried callback delivered", async || {
        failed().await == 0
    })
    .await;
    browser.open("#/incidents?status=DELIVERED").await;
    browser.wait_text(row, "已送达").await;
    browser.shot("16-incidents-delivered").await;

    browser.stop().await;
    app.stop().await;
}

/// The console is served by the server itself, with a same-origin-only policy,
/// and its labels are the domain's (001_d165f826565a3102.txt: 存疑).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_is_served_with_a_same_origin_policy() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    for (path, content_type) in [
        ("/console", "text/html"),
        ("/console/console.js", "text/javascript"),
        ("/console/router.js", "text/javascript"),
        ("/console/pages/task.js", "text/javascript"),
        ("/console/console.css", "text/css"),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers();
        assert!(headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with(content_type));
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(policy.contains("default-src 'self'") && policy.contains("script-src 'self'"));
        assert_eq!(headers["x-content-type-options"], "nosniff");
    }
    let labels: Value = app.get("/console/labels.json").await.json().await.unwrap();
    assert_eq!(labels["taskStatus"]["PENDING_QC"], "存疑");
    assert_eq!(labels["rules"]["Query.events"], json!(["AUDITOR", "ADMIN"]));
    assert!(labels["aggregateTypes"]
        .as_array()
        .unwrap()
        .contains(&json!("qc-case")));
    assert_eq!(app.get("/console/nothing-here").await.status(), 404);
    // Every module the script imports is served.
    let mut pending = vec!["console.js".to_string()];
    let mut seen = std::collections::BTreeSet::new();
    while let Some(module) = pending.pop() {
        if !seen.insert(module.clone()) {
            continue;
        }
        let response = app.get(&format!("/console/{module}")).await;
        assert_eq!(response.status(), 200, "{module}");
        let text = response.text().await.unwrap();
        let base = module.rsplit_once('/').map(|(dir, _)| dir).unwrap_or("");
        for line in text.lines().filter(|l| l.starts_with("import ")) {
            let target = line.split('"').nth(1).expect("an import path");
            let path = match (base, target.strip_prefix("./"), target.strip_prefix("../")) {
                (_, _, Some(up)) => up.to_string(),
                ("", Some(here), _) => here.to_string(),
                (dir, Some(here), _) => format!("{dir}/{here}"),
                _ => panic!("unexpected import {target} in {module}"),
            };
            pending.push(path);
        }
    }
    assert!(seen.len() >= 15, "{seen:?}");
    app.stop().await;
}

/// 001_d165f826565a3102.txt 2.5.3 rule 2 and 2.7.3: a reverse flow (面签 rolled
/// back to 面谈) opens a new task; the console draws the contract's tasks as a
/// chain with the transition and reason on the arrow, and both tasks open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reversed_loan_flow_is_drawn_as_a_chain_of_tasks() {
    let _machine = crate::support::WHOLE_MACHINE.lock().await;
    let (app, clock) = app_with_clock(Backend::Sqlite, 0).await;
    let first = passed_at_interview(&app, &clock, "LA-CONSOLE-1", "HT-LOAN-C").await;
    data(&advance(&app, "LA-CONSOLE-1", "SIGNING").await);
    let rolled = app
        .graphql_as(
            ("M0001", "ACCOUNT_MANAGER"),
            "mutation { rollBackLoanApplication(id: \"LA-CONSOLE-1\", to: INTERVIEW, reason: \"客户对贷款方案有异议\") { loan { interviewTaskId } } }",
            json!({}),
        )
        .await;
    let second = data(&rolled)["rollBackLoanApplication"]["loan"]["interviewTaskId"]
        .as_str()
        .unwrap()
        .to_string();

    let browser = Browser::start(&app.base).await;
    browser.login(("SV1", "SUPERVISOR")).await;
    browser.open("#/lineage").await;
    browser.fill("main [name=contractNo]", "HT-LOAN-C").await;
    browser.click("main form button[type=submit]").await;
    browser.wait_rendered("#/lineage/HT-LOAN-C").await;
    for task in [&first, &second] {
        browser
            .wait_until(
                &format!("document.querySelector('#lineage-chart [data-task=\"{task}\"]')"),
                "both tasks in the chain",
            )
            .await;
    }
    browser
        .wait_until(
            "document.querySelectorAll('#lineage-chart line[marker-end]').length === 1",
            "one arrow between them",
        )
        .await;
    let chart = browser.text("#lineage-chart").await;
    assert!(
        chart.contains("面签→面谈") && chart.contains("客户对贷款方案有异议"),
        "the arrow names the transition and its reason: {chart}"
    );
    assert!(
        chart.contains("已被新任务取代"),
        "the first task is superseded: {chart}"
    );
    browser.shot("09-lineage").await;
    browser
        .click_and_redraw(&format!("#lineage-chart [data-task=\"{first}\"] text"))
        .await;
    browser.wait_text("h1", "已被新任务取代").await;

    browser.stop().await;
    app.stop().await;
}

/// 003: 建立联动超时或其他异常情况的服务机制，进行人工落地处理 — a disbursement the
/// core never answered is on the console's manual-case page with the loan, the
/// request and the time waited; the supervisor records the core's answer there
/// and the loan is paid out by it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_case_is_resolved_from_the_console() {
    let _machine = crate::support::WHOLE_MACHINE.lock().await;
    let (app, clock) = crate::loan_servicing::app(Backend::Sqlite, None).await;
    let request = crate::loan_servicing::confirmed(&app, "RX-CONSOLE").await;
    clock.advance(chrono::Duration::minutes(20));
    let supervisor = ("SV1", "SUPERVISOR");
    eventually("the manual case", async || {
        let response = app
            .graphql_as(supervisor, "{ manualCases { requestId } }", json!({}))
            .await;
        !data(&response)["manualCases"]
            .as_array()
            .unwrap()
            .is_empty()
    })
    .await;
    let today = crate::loan_servicing::shanghai_today(&clock).to_string();

    let browser = Browser::start(&app.base).await;
    browser.login(supervisor).await;
    browser.open("#/manual").await;
    let row = format!("tr[data-case=\"{request}\"]");
    browser.wait_text(&row, "HT-RX-CONSOLE").await;
    browser.wait_text(&row, "放款").await;
    browser.wait_text(&row, "12000.00").await;
    browser.shot("17-manual-case").await;
    browser
        .fill(&format!("{row} [name=coreReference]"), "VCH-778")
        .await;
    browser
        .fill(&format!("{row} [name=note]"), "核心系统查询：已入账")
        .await;
    browser.fill(&format!("{row} [name=day]"), &today).await;
    browser
        .click_and_redraw(&format!("{row} button[type=submit]"))
        .await;
    eventually("the loan paid out by the recorded answer", async || {
        let response = app
            .graphql_as(
                ("CORE", "CREDIT_SYSTEM"),
                "{ loanApplication(id: \"RX-CONSOLE\") { node } }",
                json!({}),
            )
            .await;
        data(&response)["loanApplication"]["node"] == "DISBURSED"
    })
    .await;
    browser.open("#/manual?status=RESOLVED").await;
    browser.wait_text(&row, "VCH-778").await;
    browser.wait_text(&row, "SV1").await;
    browser.shot("18-manual-case-resolved").await;
    browser.stop().await;
    app.stop().await;
}

/// Issue 34 items 4 and 5 in the console: under four eyes a channel created
/// on the admin page is proposed, not made; a second admin approves it on
/// 变更复核 and it takes effect. A caller whose login had one factor is sent
/// back to log in with a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configuration_change_is_proposed_in_the_console_and_approved_by_a_second_admin() {
    let db = crate::support::TestDb::new(Backend::Sqlite).await;
    let app = TestApp::spawn_on(db, |url| {
        let mut settings = crate::support::settings(url);
        settings.four_eyes = Some(true);
        settings
    })
    .await;
    let browser = Browser::start(&app.base).await;

    // One factor only: the proposal needs a second, and the console says so.
    let now = Utc::now().timestamp() as u64;
    let one_factor = api::auth::JwtKeys::new(&secrecy::SecretString::from(
        crate::support::TEST_JWT_SECRET.to_string(),
    ))
    .sign(&api::auth::Claims {
        sub: "AD1".into(),
        role: "ADMIN".into(),
        iat: now,
        exp: now + 600,
        acr: None,
    });
    browser.login_with("AD1", &one_factor).await;
    browser.open("#/admin/channels").await;
    browser.submit_channel("SJYH", "手机银行").await;
    browser
        .wait_until("document.querySelector('#token')", "the login form again")
        .await;
    browser.wait_text("#banner", "多因素").await;

    // Two factors: the change is proposed, not made.
    browser.login(("AD1", "ADMIN")).await;
    browser.open("#/admin/channels").await;
    browser.submit_channel("SJYH", "手机银行").await;
    browser.wait_text("#banner", "PROPOSED").await;
    let channels = "{ channels(code: \"SJYH\") { name enabled } }";
    let listed = app
        .graphql_as(("AU1", "AUDITOR"), channels, json!({}))
        .await;
    assert_eq!(data(&listed)["channels"], json!([]));
    browser.open("#/admin/changes").await;
    let row = "tr[data-proposal]";
    browser.wait_text(row, "Mutation.createChannel").await;
    browser.wait_text(row, "待复核").await;
    assert!(
        browser.text(row).await.contains("撤回"),
        "the proposer may withdraw"
    );
    browser.shot("19-change-proposed").await;

    // A second admin approves it; the channel exists, created by them.
    browser.logout().await;
    browser.login(("AD2", "ADMIN")).await;
    browser.open("#/admin/changes").await;
    browser
        .click_and_redraw(&format!("{row} button[data-op=approveChange]"))
        .await;
    browser.wait_text(row, "已生效").await;
    browser.shot("20-change-applied").await;
    let listed = app
        .graphql_as(("AU1", "AUDITOR"), channels, json!({}))
        .await;
    assert_eq!(
        data(&listed)["channels"],
        json!([{ "name": "手机银行", "enabled": false }])
    );
    browser.stop().await;
    app.stop().await;
}

/// Issue 34 items 3 and 4 in the browser, through a real provider: the
/// console signs in at the provider's login page and holds nothing but an
/// HttpOnly cookie; an admin change asks for a second factor, which the
/// console gets from the provider and comes back to the page; logout ends
/// the provider's session too, so the next sign-in asks for a password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_signs_in_steps_up_and_out_through_the_identity_provider() {
    use crate::support::identity::{console_settings, free_port, IdentityProvider};
    let _machine = crate::support::WHOLE_MACHINE.lock().await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let idp = IdentityProvider::start_for_console(json!({}), &base, 300);
    let issuer = idp.issuer.clone();
    let app = TestApp::spawn_on(
        crate::support::TestDb::new(Backend::Sqlite).await,
        move |url| console_settings(url, &issuer, port),
    )
    .await;
    let browser = Browser::start(&app.base).await;
    let sign_in_at_provider = |login: &'static str| {
        let browser = &browser;
        async move {
            browser
                .wait_until(
                    "document.querySelector('input[name=login]')",
                    "the provider's login page",
                )
                .await;
            browser.fill("input[name=login]", login).await;
            browser.fill("input[name=password]", "password").await;
            browser.click("form#login button[type=submit]").await;
        }
    };

    browser
        .client
        .goto(&format!("{base}/console/"))
        .await
        .expect("navigate");
    browser
        .wait_until("document.querySelector('#sso-login')", "the sign-in button")
        .await;
    browser.shot("21-sign-in-through-the-provider").await;
    browser.click("#sso-login").await;
    sign_in_at_provider("admin1").await;
    browser
        .wait_until(
            "document.querySelector('#who').textContent.startsWith('admin1')",
            "the signed-in header",
        )
        .await;

    // The browser holds an HttpOnly, SameSite=Strict cookie, and no token.
    let cookies = browser.client.get_all_cookies().await.expect("cookies");
    let session = cookies
        .iter()
        .find(|c| c.name() == "facesign-session")
        .expect("the session cookie");
    assert_eq!(session.http_only(), Some(true));
    assert_eq!(format!("{:?}", session.same_site()), "Some(Strict)");
    let visible = browser
        .client
        .execute(
            "return document.cookie + '|' + JSON.stringify(sessionStorage);",
            vec![],
        )
        .await
        .expect("script");
    let visible = visible.as_str().unwrap_or_default();
    assert!(
        !visible.contains("facesign-session") && !visible.contains("eyJ"),
        "{visible}"
    );

    // An admin change needs a second factor: the console asks the provider
    // for one and comes back to the page, where the change is made.
    browser.open("#/admin/channels").await;
    browser.submit_channel("SJYH", "手机银行").await;
    sign_in_at_provider("admin1+mfa").await;
    browser.wait_rendered("#/admin/channels").await;
    browser.submit_channel("SJYH", "手机银行").await;
    browser.wait_text("#banner", "操作成功").await;
    browser.shot("22-signed-in-with-a-second-factor").await;
    let auditor = idp.login("auditor1").await;
    let listed: Value = app
        .client
        .post(format!("{base}/graphql"))
        .bearer_auth(auditor)
        .json(&json!({ "query": "{ channels(code: \"SJYH\") { name } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(data(&listed)["channels"], json!([{ "name": "手机银行" }]));

    // Logout ends the session here and, after the provider's confirmation,
    // there: the next sign-in asks for the password again.
    browser.click("#logout").await;
    browser
        .wait_until(
            "document.querySelector('button[value=yes]')",
            "the provider's logout page",
        )
        .await;
    browser.click("button[value=yes]").await;
    browser
        .wait_until(
            "document.querySelector('#sso-login')",
            "the sign-in button again",
        )
        .await;
    let cookies = browser.client.get_all_cookies().await.expect("cookies");
    assert!(
        !cookies.iter().any(|c| c.name() == "facesign-session"),
        "the cookie is gone"
    );
    browser.click("#sso-login").await;
    browser
        .wait_until(
            "document.querySelector('input[name=login]')",
            "a new sign-in at the provider",
        )
        .await;
    browser.stop().await;
    app.stop().await;
}
