//! 合同下载 (003 我的贷款): the contract and its records go out by e-mail as an
//! AES-256 encrypted ZIP archive whose password (解压码) the customer reads in
//! the request record. The mailer sends every PENDING request through the
//! bank's SMTP relay and records the outcome on the loan (SENT or FAILED).
//! A request stays PENDING while no relay is configured or it cannot be
//! reached; a refusal of the address or the message is FAILED.

use std::io::Write;
use std::sync::Arc;

use domain::loan_application::{LoanApplication, LoanCommand};
use domain::log::Actor;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tracing::{info, warn};

use store::{CommandBus, CommandContext};

use crate::read_models::{ContractDownload, ReadModels};

/// Where contract e-mails go out.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    /// The relay's host (FACESIGN_SMTP_HOST).
    pub host: String,
    /// Its port (FACESIGN_SMTP_PORT).
    pub port: u16,
    /// The sender address (FACESIGN_SMTP_FROM).
    pub from: String,
}

/// Requests sent per round (the timer loop waits for the round).
const PAGE: i64 = 10;

/// Builds the archive of `files` encrypted with `password` (AES-256, WinZip AE-2).
pub fn encrypted_archive(files: &[(&str, Vec<u8>)], password: &str) -> anyhow::Result<Vec<u8>> {
    let mut archive = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .with_aes_encryption(zip::AesMode::Aes256, password);
    for (name, bytes) in files {
        archive.start_file(*name, options)?;
        archive.write_all(bytes)?;
    }
    Ok(archive.finish()?.into_inner())
}

/// Sends contract archives.
pub struct ContractMailer {
    bus: Arc<CommandBus>,
    read_models: Arc<dyn ReadModels>,
    smtp: SmtpSettings,
    // Settled here but perhaps not yet in the read model: not sent twice.
    settled: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl ContractMailer {
    /// A mailer through `smtp`.
    pub fn new(bus: Arc<CommandBus>, read_models: Arc<dyn ReadModels>, smtp: SmtpSettings) -> Self {
        Self {
            bus,
            read_models,
            smtp,
            settled: Default::default(),
        }
    }

    /// The contract's text and its records: the terms signed, the consents,
    /// verifications and signature, and every move of the loan.
    async fn files(&self, loan_id: &str) -> anyhow::Result<Vec<(&'static str, Vec<u8>)>> {
        let loan = self
            .read_models
            .contract_records(loan_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("loan {loan_id} is not in the read model"))?;
        let terms: serde_json::Value = loan
            .contract_terms
            .as_deref()
            .map(serde_json::from_str)
            .transpose()?
            .unwrap_or(serde_json::Value::Null);
        let contract = format!(
            "借款合同\n合同号: {}\n合同金额: {} {}\n贷款期限: {} 个月\n执行年利率: {}\n贷款用途: {}\n还款方式: {}\n合同要素版本: {}\n",
            loan.contract_no,
            terms["amount"].as_str().unwrap_or(&loan.amount),
            terms["currency"].as_str().unwrap_or("CNY"),
            terms["term_months"],
            terms["annual_rate"].as_str().unwrap_or(""),
            terms["purpose"].as_str().unwrap_or(""),
            terms["method"].as_str().unwrap_or(""),
            terms["version"],
        );
        let records = serde_json::json!({
            "loanId": loan.loan_id,
            "contractNo": loan.contract_no,
            "terms": terms,
            "evidence": loan.evidence,
            "history": loan.history,
        });
        Ok(vec![
            ("contract.txt", contract.into_bytes()),
            ("records.json", serde_json::to_vec_pretty(&records)?),
        ])
    }

    /// Sends one request's archive; `Ok(Err(reason))` when the relay refused it.
    async fn send(&self, request: &ContractDownload) -> anyhow::Result<Result<(), String>> {
        let Some(password) = request.archive_password.as_deref() else {
            return Ok(Err("the archive password of the request is missing".into()));
        };
        let archive = encrypted_archive(&self.files(&request.loan_id).await?, password)?;
        let to: Mailbox = match request.email.parse() {
            Ok(to) => to,
            Err(e) => return Ok(Err(format!("address refused: {e}"))),
        };
        let message = Message::builder()
            .from(self.smtp.from.parse()?)
            .to(to)
            .subject("您申请下载的融信秒贷电子合同")
            .multipart(
                MultiPart::mixed()
                    .singlepart(SinglePart::plain(
                        "附件为您申请下载的电子合同及其记录，已加密压缩；解压码请在直销银行\"合同下载\"的申请记录中查看。电子合同涉及您的贷款交易信息，请妥善保管，勿转发他人。"
                            .to_string(),
                    ))
                    .singlepart(
                        Attachment::new(format!("contract-{}.zip", request.loan_id))
                            .body(archive, ContentType::parse("application/zip")?),
                    ),
            )?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&self.smtp.host)
            .port(self.smtp.port)
            .timeout(Some(std::time::Duration::from_secs(10)))
            .build();
        match transport.send(message).await {
            Ok(_) => Ok(Ok(())),
            // A permanent refusal (5xx) fails the request; anything else is retried.
            Err(e) if e.is_permanent() => Ok(Err(e.to_string())),
            Err(e) => Err(e.into()),
        }
    }

    /// Sends what is pending; returns how many were settled.
    pub async fn run_once(&self) -> anyhow::Result<usize> {
        let pending = self.read_models.pending_contract_downloads(PAGE).await?;
        let mut settled = 0;
        for request in pending {
            if self
                .settled
                .lock()
                .expect("settled")
                .contains(&request.request_id)
            {
                continue;
            }
            let outcome = match self.send(&request).await {
                // The reason goes into the loan's record: bounded.
                Ok(outcome) => outcome.map_err(|reason| reason.chars().take(480).collect()),
                Err(e) => {
                    // The relay is unreachable: the rest waits for the next round.
                    warn!(loan = %request.loan_id, request = %request.request_id, error = %e,
                        "contract e-mail not sent; it will be tried again");
                    break;
                }
            };
            let context = CommandContext::for_request(
                Actor::system("contract-mailer"),
                format!("contract-mail:{}", request.request_id),
            );
            let command = LoanCommand::RecordContractDelivery {
                request_id: request.request_id.clone(),
                outcome,
            };
            let recorded = self
                .bus
                .execute::<LoanApplication>(&request.loan_id, command, &context)
                .await;
            crate::timers::done_unless_failed(recorded)?;
            self.settled
                .lock()
                .expect("settled")
                .insert(request.request_id.clone());
            settled += 1;
        }
        if settled > 0 {
            info!(settled, "contract download e-mails settled");
        }
        Ok(settled)
    }
}
