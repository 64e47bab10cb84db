//! How each event changes the loan (`Aggregate::apply`): kept apart from the
//! rules that decide the events, so each reads on its own.

use super::*;

impl LoanApplication {
    /// The loan after `event`: every field an event sets, in one place.
    pub(super) fn evolve(&mut self, event: LoanEvent) {
        OpenPrepayment::apply(&mut self.prepayment, &event);
        match event {
            LoanEvent::LoanSubmitted {
                product,
                amount,
                contract_no,
                task_kind,
                participants,
                product_code,
                channel_code,
                manager_id,
                property_location,
                term_months,
                purpose,
                ..
            } => {
                self.term_months = term_months;
                self.purpose = purpose;
                self.property_location = property_location;
                self.product_code = product_code;
                self.channel_code = channel_code;
                self.manager_id = manager_id;
                self.submitted = true;
                self.contract_no = contract_no;
                self.task_kind = task_kind;
                self.participants = participants;
                self.product = product;
                self.amount = amount.unwrap_or_default();
                self.node = Some(match product {
                    Product::Yongxu => Node::Submitted,
                    Product::RongxinMiaodai => Node::Applying,
                    Product::Partner => Node::Disbursing,
                });
            }
            LoanEvent::LoanAdvanced { to, .. } => self.node = Some(to),
            LoanEvent::LoanRolledBack { to, .. } => {
                self.node = Some(to);
                if to <= Node::Interview {
                    self.interview_passed = false;
                }
            }
            LoanEvent::InterviewTaskAttached { task_id } => {
                self.interview_task = Some(task_id);
                self.interview_passed = false;
            }
            LoanEvent::InterviewPassed { .. } => self.interview_passed = true,
            LoanEvent::WhitelistChecked { result } => self.whitelist = Some(result),
            LoanEvent::LoanInfoReviewed { review_id, .. } => {
                self.seat_reviews.insert(review_id);
            }
            LoanEvent::FaceChecked {
                passed,
                day,
                failures_today,
            } => {
                self.face_check_passed |= passed;
                self.face_failures = (day, failures_today);
            }
            LoanEvent::ApprovalRequested { route, amount, .. } => {
                // A 1.0 online request named the amount; a 1.1 one chooses it later.
                self.amount = amount.unwrap_or_default();
                self.route = Some(route);
                self.verified_for_submission = false; // each submission is checked anew
                self.node = Some(Node::Approving);
            }
            LoanEvent::LoanApproved { offer, .. } => {
                if offer.is_some() {
                    self.offer = offer;
                }
                self.node = Some(Node::AwaitingDisbursement);
            }
            LoanEvent::LoanDeclined { .. } => self.node = Some(Node::Declined),
            LoanEvent::LoanResubmitted {
                amount,
                term_months,
                purpose,
            } => {
                self.amount = amount.unwrap_or_default();
                self.term_months = term_months.or(self.term_months);
                self.purpose = purpose.or(self.purpose.take());
                self.route = None;
                self.offer = None;
                self.contract = None;
                self.signing_rate = None;
                self.declared_purpose = None;
                self.node = Some(Node::Applying);
            }
            LoanEvent::LoanDocumentAccepted {
                document, purpose, ..
            } => {
                if document == LoanDocument::LoanPurposeDeclaration {
                    self.declared_purpose = purpose;
                }
                self.accepted.insert(document);
            }
            LoanEvent::CustomerVerified { purpose, passed } => match purpose {
                VerificationPurpose::Submission => self.verified_for_submission = passed,
                VerificationPurpose::ContractDownload => self.verified_for_download = passed,
            },
            LoanEvent::ContractDownloadRequested { request_id, .. } => {
                self.verified_for_download = false; // each request is checked anew
                self.download_requests.insert(request_id, false);
            }
            LoanEvent::ContractDelivered { request_id }
            | LoanEvent::ContractDeliveryFailed { request_id, .. } => {
                self.download_requests.insert(request_id, true);
            }
            LoanEvent::LoanAmountChosen {
                amount,
                term_months,
                route,
                terms,
            } => {
                self.amount = amount;
                self.term_months = Some(term_months);
                self.route = Some(route);
                if route == ApprovalRoute::Manual {
                    self.node = Some(Node::Approving);
                }
                self.contract = terms;
            }
            LoanEvent::SigningRateSet { annual_rate, terms } => {
                self.signing_rate = Some(annual_rate);
                if terms.is_some() {
                    self.contract = terms;
                }
            }
            LoanEvent::ContractSigned {
                terms, contract, ..
            } => {
                self.contract_signed = true;
                self.terms = terms;
                if contract.is_some() {
                    self.contract = contract;
                }
            }
            LoanEvent::DisbursementRequested {
                request_id,
                account,
                ..
            } => {
                self.disbursement_request = Some(request_id);
                self.account = account;
                self.node = Some(Node::Disbursing);
            }
            LoanEvent::DisbursementFailed {
                message_id,
                request_id,
                ..
            } => {
                // The core answered after all: a case it opened is closed.
                self.manual_cases.remove(&request_id);
                self.seen_messages.insert(message_id);
                self.disbursement_request = None;
                self.node = Some(Node::AwaitingDisbursement);
            }
            LoanEvent::LoanDisbursed { disbursement, .. } => {
                self.node = Some(Node::Disbursed);
                self.disbursement_request = None;
                if let Some(d) = disbursement {
                    self.manual_cases.remove(&d.request_id);
                    self.seen_messages.insert(d.message_id);
                    self.ledger = Some(Ledger::open(d.terms, d.value_date, &d.plan));
                }
            }
            LoanEvent::RepaymentReceived { .. } | LoanEvent::PlanRecalculated { .. } => {
                if let Some(ledger) = self.ledger.as_mut() {
                    ledger.apply(&event);
                }
                if let LoanEvent::RepaymentReceived {
                    message_id,
                    repayment_no,
                    ..
                } = event
                {
                    self.seen_messages.insert(message_id);
                    if let Some(no) = repayment_no {
                        self.manual_cases.remove(&no);
                        self.open_repayments.remove(&no);
                    }
                }
            }
            LoanEvent::RepaymentRequested { repayment_no, .. } => {
                self.repayment_nos.insert(repayment_no.clone());
                self.open_repayments.insert(repayment_no);
            }
            LoanEvent::LoanSettled { .. } => self.node = Some(Node::Settled),
            LoanEvent::AutoDebitFailed {
                message_id,
                repayment_no,
                ..
            } => {
                self.seen_messages.insert(message_id);
                if let Some(no) = repayment_no {
                    self.manual_cases.remove(&no);
                    self.open_repayments.remove(&no);
                }
            }
            LoanEvent::InstallmentOverdue { period, .. } => {
                self.overdue_marked.insert(period);
            }
            LoanEvent::RepaymentReminderDue { period, .. } => {
                self.reminded.insert(period);
            }
            LoanEvent::PrepaymentRequested { prepayment_id, .. } => {
                self.prepayment_ids.insert(prepayment_id);
            }
            LoanEvent::PrepaymentDebitNoticeDue { prepayment_id, .. } => {
                self.noticed_prepayments.insert(prepayment_id);
            }
            LoanEvent::ManualCaseOpened {
                kind, request_id, ..
            } => {
                self.manual_cases.insert(request_id, kind);
            }
            LoanEvent::ManualCaseResolved {
                request_id,
                outcome,
                ..
            } => {
                self.manual_cases.remove(&request_id);
                self.manual_outcomes.insert(request_id, outcome);
            }
            LoanEvent::PrepaymentApproved { .. } | LoanEvent::PrepaymentRefused { .. } => {}
        }
    }
}
