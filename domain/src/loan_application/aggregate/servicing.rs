//! The loan after the money (003 贷后): the core's disbursement result, received
//! repayments and failed auto-debits (each a consumed message, applied once by
//! its id), the daily review (overdue periods, reminders) and prepayment
//! applications. Every figure comes from the pure ledger in `../ledger.rs`.

use crate::message::{message, Localized};
use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::{text, LoanApplication, Node, Product};
use crate::loan_application::commands::{DisbursementOutcome, LoanCommand, OpenPartnerLoan};
use crate::loan_application::error::LoanError;
use crate::loan_application::events::{Disbursement, LoanEvent};
use crate::loan_application::ledger::{Ledger, LedgerError, LoanTerms, RepaymentChannel};
use crate::repayment::{fen, repayment_plan};
use crate::services::DomainServices;

/// The commands handled here answer `Ok(Ok(events))`; any other comes back.
type Servicing = Result<Result<Vec<LoanEvent>, LoanCommand>, LoanError>;

fn shanghai_today(services: &DomainServices) -> NaiveDate {
    crate::schedule::shanghai_date(services.clock.now())
}

impl LoanApplication {
    fn disbursed_ledger(&self) -> Result<&Ledger, LoanError> {
        self.ledger
            .as_ref()
            .ok_or(LoanError::StepMissing("a disbursement through the core"))
    }

    fn seen(&self, message_id: &str) -> Result<bool, LoanError> {
        if message_id.trim().is_empty() || message_id.len() > 200 {
            return Err(LoanError::Invalid(message!(
                "messageId must be 1 to 200 characters"
            )));
        }
        Ok(self.seen_messages.contains(message_id))
    }

    /// Handles the servicing commands; gives any other command back.
    pub(super) fn servicing(&self, command: LoanCommand, services: &DomainServices) -> Servicing {
        if let Some(late) = self.answered_by_hand(&command) {
            return late.map(Ok);
        }
        let events = match command {
            LoanCommand::EscalateCoreRequest {
                kind,
                request_id,
                requested_at,
                waited_secs,
            } => self.escalate(kind, request_id, requested_at, waited_secs),
            LoanCommand::ResolveManualCase {
                request_id,
                core_reference,
                note,
                answer,
            } => self.resolve(request_id, core_reference, note, *answer, services)?,
            LoanCommand::RecordDisbursementResult {
                message_id,
                request_id,
                outcome,
            } => {
                self.require(Product::RongxinMiaodai)?;
                if self.seen(&message_id)? {
                    return Ok(Ok(Vec::new()));
                }
                if self.disbursement_request.as_deref() != Some(request_id.as_str()) {
                    return Err(LoanError::NotOpen {
                        kind: "disbursement request",
                        id: request_id,
                    });
                }
                let terms = self
                    .terms
                    .ok_or(LoanError::StepMissing("a contract signed with its terms"))?;
                vec![match outcome {
                    DisbursementOutcome::Failed { reason } => LoanEvent::DisbursementFailed {
                        request_id,
                        message_id,
                        reason: text(&reason, "reason")?,
                    },
                    DisbursementOutcome::Paid {
                        value_date,
                        first_due_date,
                    } => {
                        let first_due = match first_due_date {
                            Some(day) => day,
                            None => value_date
                                .checked_add_months(chrono::Months::new(1))
                                .ok_or_else(|| {
                                    LoanError::Invalid(message!("valueDate is out of range"))
                                })?,
                        };
                        if first_due <= value_date {
                            return Err(LoanError::Invalid(message!(
                                "firstDueDate must be after valueDate"
                            )));
                        }
                        let plan = repayment_plan(
                            self.amount,
                            terms.annual_rate,
                            terms.term_months,
                            terms.method,
                            first_due,
                        )
                        .map_err(LedgerError::from)?;
                        LoanEvent::LoanDisbursed {
                            account: self.account.clone(),
                            disbursement: Some(Disbursement {
                                request_id,
                                message_id,
                                value_date,
                                amount: self.amount,
                                terms,
                                plan,
                            }),
                        }
                    }
                }]
            }
            LoanCommand::RecordRepayment {
                message_id,
                received_on,
                amount,
                channel,
                prepayment_id,
                repayment_no,
            } => {
                if self.seen(&message_id)? {
                    return Ok(Ok(Vec::new()));
                }
                self.open_repayment(repayment_no.as_deref())?;
                let mut events =
                    self.repayment(message_id, received_on, amount, channel, prepayment_id)?;
                if let Some(LoanEvent::RepaymentReceived {
                    repayment_no: answered,
                    ..
                }) = events.first_mut()
                {
                    *answered = repayment_no;
                }
                events
            }
            LoanCommand::RecordAutoDebitFailure {
                message_id,
                attempted_on,
                amount,
                reason,
                repayment_no,
            } => {
                if self.seen(&message_id)? {
                    return Ok(Ok(Vec::new()));
                }
                self.open_repayment(repayment_no.as_deref())?;
                let ledger = self.disbursed_ledger()?;
                if amount <= Decimal::ZERO || fen(amount) != amount {
                    return Err(LedgerError::BadAmount.into());
                }
                vec![LoanEvent::AutoDebitFailed {
                    message_id,
                    attempted_on,
                    amount,
                    period: ledger
                        .periods
                        .iter()
                        .find(|p| !p.settled())
                        .map(|p| p.period),
                    reason: text(&reason, "reason")?,
                    repayment_no,
                }]
            }
            LoanCommand::OpenPartnerLoan(open) => {
                if self.submitted {
                    return Ok(Ok(Vec::new())); // the order's event delivered again
                }
                self.open_partner_loan(open, services)?
            }
            LoanCommand::RequestRepayment {
                repayment_no,
                amount,
            } => {
                let ledger = self.disbursed_ledger()?;
                let repayment_no = text(&repayment_no, "repayNo")?;
                if self.repayment_nos.contains(&repayment_no) {
                    return Ok(Ok(Vec::new())); // the partner sent it again
                }
                // What could be booked today: positive, in fen, not above everything owed.
                ledger.book(shanghai_today(services), amount)?;
                vec![LoanEvent::RepaymentRequested {
                    repayment_no,
                    amount,
                }]
            }
            LoanCommand::ReviewLedger {
                today,
                reminder_days,
                prepayment_notice_through,
            } => {
                let Some(ledger) = self.ledger.as_ref() else {
                    return Ok(Ok(Vec::new()));
                };
                let mut events = Vec::new();
                if let (Some(open), Some(through)) = (&self.prepayment, prepayment_notice_through) {
                    let debit_date = open.quote.quoted_on;
                    if open.approved
                        && (today..=through).contains(&debit_date)
                        && !self.noticed_prepayments.contains(&open.prepayment_id)
                    {
                        events.push(LoanEvent::PrepaymentDebitNoticeDue {
                            prepayment_id: open.prepayment_id.clone(),
                            debit_date,
                            amount: open.quote.total,
                        });
                    }
                }
                for p in ledger.periods.iter().filter(|p| !p.settled()) {
                    if p.due_date < today && !self.overdue_marked.contains(&p.period) {
                        events.push(LoanEvent::InstallmentOverdue {
                            period: p.period,
                            due_date: p.due_date,
                            unpaid: p.unpaid_scheduled(),
                        });
                    }
                    let remind_from = p
                        .due_date
                        .checked_sub_days(chrono::Days::new(reminder_days.into()));
                    if reminder_days > 0
                        && remind_from.is_some_and(|d| d <= today)
                        && today <= p.due_date
                        && !self.reminded.contains(&p.period)
                    {
                        events.push(LoanEvent::RepaymentReminderDue {
                            period: p.period,
                            due_date: p.due_date,
                            amount: p.unpaid_scheduled(),
                        });
                    }
                }
                events
            }
            LoanCommand::RequestPrepayment {
                application_id,
                principal,
                choice,
            } => {
                let ledger = self.disbursed_ledger()?;
                let application_id = text(&application_id, "prepaymentId")?;
                if self.prepayment_ids.contains(&application_id) {
                    return Ok(Ok(Vec::new())); // a retried application
                }
                if let Some(open) = &self.prepayment {
                    return Err(LoanError::PrepaymentOpen(open.prepayment_id.clone()));
                }
                if principal.is_some() != choice.is_some() {
                    return Err(LoanError::Invalid(
                        message!("a partial prepayment gives both the principal and the choice; a full one neither")
                    ));
                }
                let quote = ledger.quote(shanghai_today(services), principal)?;
                vec![LoanEvent::PrepaymentRequested {
                    prepayment_id: application_id,
                    choice,
                    quote,
                }]
            }
            LoanCommand::DecidePrepayment {
                application_id,
                approve,
                debit_date,
                reason,
            } => {
                let ledger = self.disbursed_ledger()?;
                let open = match &self.prepayment {
                    Some(open) if open.prepayment_id == application_id && !open.approved => open,
                    _ => {
                        return Err(LoanError::NotOpen {
                            kind: "prepayment",
                            id: application_id,
                        })
                    }
                };
                if !approve {
                    vec![LoanEvent::PrepaymentRefused {
                        prepayment_id: application_id,
                        reason: text(reason.as_deref().unwrap_or(""), "reason")?,
                    }]
                } else {
                    let today = shanghai_today(services);
                    let day = debit_date.unwrap_or(today);
                    if day < today {
                        return Err(LoanError::Invalid(message!(
                            "debitDate must be today or later"
                        )));
                    }
                    let principal = open.choice.map(|_| open.quote.principal);
                    vec![LoanEvent::PrepaymentApproved {
                        prepayment_id: application_id,
                        quote: ledger.quote(day, principal)?,
                    }]
                }
            }
            other => return Ok(Err(other)),
        };
        Ok(Ok(events))
    }

    /// A result naming an active repayment must name an open one.
    fn open_repayment(&self, repayment_no: Option<&str>) -> Result<(), LoanError> {
        match repayment_no {
            Some(no) if !self.open_repayments.contains(no) => Err(LoanError::NotOpen {
                kind: "repayment request",
                id: no.to_string(),
            }),
            _ => Ok(()),
        }
    }

    /// The partner loan's submission and disbursement, with its plan (first
    /// due a month after the value date).
    fn open_partner_loan(
        &self,
        open: OpenPartnerLoan,
        services: &DomainServices,
    ) -> Result<Vec<LoanEvent>, LoanError> {
        let terms = LoanTerms {
            annual_rate: open.annual_rate,
            term_months: open.term_months,
            method: crate::repayment::RepaymentMethod::EqualInstallments,
            penalty_annual_rate: services.loans.penalty_annual_rate,
        };
        terms.check().map_err(LedgerError::from)?;
        let first_due = open
            .value_date
            .checked_add_months(chrono::Months::new(1))
            .ok_or_else(|| LoanError::Invalid(message!("valueDate is out of range")))?;
        let plan = repayment_plan(
            open.amount,
            terms.annual_rate,
            terms.term_months,
            terms.method,
            first_due,
        )
        .map_err(LedgerError::from)?;
        let participants = crate::interview_task::merge_participants(&[open.borrower])
            .map_err(|e| LoanError::Invalid(e.message()))?;
        Ok(vec![
            LoanEvent::LoanSubmitted {
                product: Product::Partner,
                contract_no: open.order_no,
                amount: Some(open.amount),
                term_months: Some(open.term_months),
                purpose: None,
                branch: None,
                task_kind: Default::default(),
                product_code: String::new(),
                channel_code: open.partner,
                manager_id: String::new(),
                participants,
                property_location: None,
            },
            LoanEvent::LoanDisbursed {
                account: String::new(),
                disbursement: Some(Disbursement {
                    request_id: open.disbursed_by.clone(),
                    message_id: open.disbursed_by,
                    value_date: open.value_date,
                    amount: open.amount,
                    terms,
                    plan,
                }),
            },
        ])
    }

    /// Books a received payment; a prepayment's settlement must match its
    /// approved quote to the fen, and re-plans the periods not yet due.
    fn repayment(
        &self,
        message_id: String,
        received_on: NaiveDate,
        amount: Decimal,
        channel: RepaymentChannel,
        prepayment_id: Option<String>,
    ) -> Result<Vec<LoanEvent>, LoanError> {
        let ledger = self.disbursed_ledger()?;
        let mut after = ledger.clone();
        let mut events = Vec::new();
        match (channel, prepayment_id) {
            (RepaymentChannel::Prepayment, Some(id)) => {
                let open = match &self.prepayment {
                    Some(open) if open.prepayment_id == id && open.approved => open,
                    _ => {
                        return Err(LoanError::NotOpen {
                            kind: "prepayment",
                            id,
                        })
                    }
                };
                let quote = &open.quote;
                let principal = open.choice.map(|_| quote.principal);
                let mismatch = || LoanError::QuoteMismatch {
                    amount,
                    on: received_on,
                    quoted: quote.total,
                    quoted_on: quote.quoted_on,
                };
                if amount != quote.total || received_on != quote.quoted_on {
                    return Err(mismatch());
                }
                // Another payment since the approval changes what is owed.
                if ledger.quote(received_on, principal).as_ref() != Ok(quote) {
                    return Err(mismatch());
                }
                let booking = if quote.owed.is_zero() {
                    crate::loan_application::ledger::Booking {
                        accruals: ledger.accruals(received_on),
                        parts: Vec::new(),
                    }
                } else {
                    ledger.book(received_on, quote.owed)?
                };
                let from_period = ledger
                    .periods
                    .iter()
                    .find(|p| p.due_date > received_on)
                    .map(|p| p.period)
                    .ok_or(LedgerError::NothingToPrepay)?;
                let plan = ledger.replan(quote, open.choice)?;
                after.apply_accruals(&booking.accruals);
                after.apply_parts(&booking.parts);
                after.apply_replan(from_period, &plan);
                events.push(LoanEvent::RepaymentReceived {
                    message_id,
                    received_on,
                    amount,
                    channel,
                    prepayment_id: Some(id.clone()),
                    accruals: booking.accruals,
                    parts: booking.parts,
                    prepaid_principal: quote.principal,
                    prepaid_interest: quote.interest,
                    repayment_no: None,
                });
                events.push(LoanEvent::PlanRecalculated {
                    prepayment_id: id,
                    from_period,
                    plan,
                });
            }
            (RepaymentChannel::Prepayment, None) | (_, Some(_)) => {
                return Err(LoanError::Invalid(message!(
                    "a prepayment's settlement names its prepaymentId, and only it does"
                )))
            }
            (channel, None) => {
                let booking = ledger.book(received_on, amount)?;
                after.apply_accruals(&booking.accruals);
                after.apply_parts(&booking.parts);
                events.push(LoanEvent::RepaymentReceived {
                    message_id,
                    received_on,
                    amount,
                    channel,
                    prepayment_id: None,
                    accruals: booking.accruals,
                    parts: booking.parts,
                    prepaid_principal: Decimal::ZERO,
                    prepaid_interest: Decimal::ZERO,
                    repayment_no: None,
                });
            }
        }
        if after.settled() && self.node != Some(Node::Settled) {
            events.push(LoanEvent::LoanSettled { on: received_on });
        }
        Ok(events)
    }
}
