//! The session's rules: what a session command records ([`decide`]) and how
//! each recorded event changes the session ([`apply`]).

use super::*;

fn merge(before: &LoanInfo, changes: LoanInfo) -> LoanInfo {
    LoanInfo {
        amount: changes.amount.or_else(|| before.amount.clone()),
        term_months: changes.term_months.or(before.term_months),
        annual_rate: changes.annual_rate.or_else(|| before.annual_rate.clone()),
        disbursement_method: changes
            .disbursement_method
            .or_else(|| before.disbursement_method.clone()),
        repayment_bank: changes
            .repayment_bank
            .or_else(|| before.repayment_bank.clone()),
        repayment_account: changes
            .repayment_account
            .or_else(|| before.repayment_account.clone()),
        repayment_day: changes.repayment_day.or(before.repayment_day),
        purpose: changes.purpose.or_else(|| before.purpose.clone()),
        repayment_method: changes.repayment_method.or(before.repayment_method),
        first_repayment_date: changes
            .first_repayment_date
            .or_else(|| before.first_repayment_date.clone()),
    }
}

/// Decides a session command.
pub fn decide(
    command: SessionCommand,
    ctx: SessionContext<'_>,
) -> Result<SessionEvent, InterviewTaskError> {
    let requires = |step: TaskStep| -> Result<(), InterviewTaskError> {
        if ctx.required.contains(&step) {
            Ok(())
        } else {
            Err(InterviewTaskError::StepNotRequired { step })
        }
    };
    Ok(match command {
        SessionCommand::RecordFieldInvestigation {
            scope,
            latitude,
            longitude,
            address,
            information,
            photos,
        } => {
            requires(TaskStep::FieldInvestigation)?;
            if !(-90.0..=90.0).contains(&latitude) || !(-180.0..=180.0).contains(&longitude) {
                return Err(InterviewTaskError::InvalidField {
                    field: "location",
                    reason: "latitude must be within ±90 and longitude within ±180",
                });
            }
            if photos.is_empty() || photos.len() > 50 {
                return Err(InterviewTaskError::InvalidField {
                    field: "photos",
                    reason: "must list 1 to 50 photos",
                });
            }
            SessionEvent::FieldInvestigationRecorded {
                scope,
                latitude,
                longitude,
                address: text(&address, "address", 200)?,
                information: text(&information, "information", 2000)?,
                photos,
                video_witness_required: scope == InvestigationScope::HomeAndWorkplace,
            }
        }
        SessionCommand::RecordIdentityCheck {
            id_number,
            liveness_passed,
            similarity,
        } => {
            requires(TaskStep::IdentityCheck)?;
            let id_number = id_number.trim().to_uppercase();
            if !ctx.participants.iter().any(|(id, _, _)| *id == id_number) {
                return Err(InterviewTaskError::UnknownParticipant);
            }
            if !(0.0..=1.0).contains(&similarity) {
                return Err(InterviewTaskError::InvalidField {
                    field: "similarity",
                    reason: "must be between 0 and 1",
                });
            }
            SessionEvent::IdentityChecked {
                id_number,
                liveness_passed,
                similarity,
                threshold: ctx.threshold,
                // 000 客户核身: 对比分数大于系统设定分数，则通过 — strictly above.
                passed: liveness_passed && similarity > ctx.threshold,
            }
        }
        SessionCommand::RecordVideoWitness {
            storage_ref,
            id_number,
        } => {
            requires(TaskStep::VideoWitness)?;
            let id_number = id_number.map(|id| id.trim().to_uppercase());
            let witnessed = ctx
                .participants
                .iter()
                .find(|(id, _, main)| match &id_number {
                    Some(wanted) => id == wanted,
                    None => *main,
                });
            let Some((_, customer, _)) = witnessed else {
                return Err(InterviewTaskError::UnknownParticipant);
            };
            SessionEvent::VideoWitnessRecorded {
                recording_name: recording_name(
                    ctx.now,
                    customer,
                    ctx.seat_no,
                    ctx.session.recordings + 1,
                ),
                storage_ref: text(&storage_ref, "storageRef", 500)?,
                id_number,
            }
        }
        SessionCommand::JoinSession {
            id_number,
            channel_code,
        } => {
            let id_number = id_number.trim().to_uppercase();
            let Some((_, name, main)) = ctx.participants.iter().find(|(id, _, _)| *id == id_number)
            else {
                return Err(InterviewTaskError::UnknownParticipant);
            };
            // 001 2.2.1: the main borrower opens the room; the others join it.
            let borrower_joined = ctx.participants.iter().any(|(id, _, main)| {
                *main
                    && (ctx.session.present.contains_key(*id)
                        || ctx.session.closed_legs.iter().any(|l| l.id_number == *id))
            });
            if !main && !borrower_joined {
                return Err(InterviewTaskError::BorrowerNotInSession);
            }
            let rejoin = match ctx.session.rejoin_until(&id_number, ctx.rejoin_window) {
                Some(until) if ctx.now > until => {
                    return Err(InterviewTaskError::RejoinWindowPassed { until })
                }
                Some(_) => true,
                None => false,
            };
            SessionEvent::ParticipantJoined {
                id_number: id_number.clone(),
                name: name.to_string(),
                leg: ctx.session.closed_legs.len() as u32 + ctx.session.present.len() as u32 + 1,
                channel_code: text(&channel_code, "channelCode", 32)?,
                rejoin,
                joined_at: ctx.now,
            }
        }
        SessionCommand::LeaveSession { id_number, end } => {
            let id_number = id_number.trim().to_uppercase();
            let Some(open) = ctx.session.present.get(&id_number) else {
                return Err(InterviewTaskError::NotInSession);
            };
            SessionEvent::ParticipantLeft {
                id_number,
                leg: open.leg,
                end,
                left_at: ctx.now,
            }
        }
        SessionCommand::RecordInfoEntry { fields } => {
            requires(TaskStep::InfoEntry)?;
            if fields.is_empty() || fields.len() > 100 {
                return Err(InterviewTaskError::InvalidField {
                    field: "fields",
                    reason: "must hold 1 to 100 entries",
                });
            }
            SessionEvent::InfoEntryRecorded { fields }
        }
        SessionCommand::CaptureSnapshot {
            category,
            storage_ref,
        } => SessionEvent::SnapshotCaptured {
            serial: ctx.session.snapshots + 1,
            category,
            storage_ref: text(&storage_ref, "storageRef", 500)?,
        },
        SessionCommand::PushDocument { document_id, name } => {
            let document_id = text(&document_id, "documentId", 64)?;
            if ctx.session.documents.contains_key(&document_id) {
                return Err(InterviewTaskError::DocumentAlreadyPushed);
            }
            SessionEvent::DocumentPushed {
                document_id,
                name: text(&name, "name", 200)?,
            }
        }
        SessionCommand::SignDocument {
            document_id,
            signed_ref,
        } => match ctx.session.documents.get(document_id.trim()) {
            None => return Err(InterviewTaskError::UnknownDocument),
            Some(true) => return Err(InterviewTaskError::DocumentAlreadySigned),
            Some(false) => SessionEvent::DocumentSigned {
                document_id: document_id.trim().to_string(),
                signed_ref: text(&signed_ref, "signedRef", 500)?,
            },
        },
        SessionCommand::TagVideo { kind, note } => SessionEvent::VideoTagged {
            serial: ctx.session.tags + 1,
            kind,
            note: text(&note, "note", 200)?,
            tagged_at: ctx.now,
        },
        SessionCommand::SendChatMessage { sender, text: body } => SessionEvent::ChatMessageSent {
            sender,
            text: text(&body, "text", 2000)?,
        },
        SessionCommand::AddRemark { text: body } => SessionEvent::RemarkAdded {
            text: text(&body, "text", 2000)?,
        },
        SessionCommand::ConfirmLoanInfo => {
            if ctx.session.loan_info.is_empty() {
                return Err(InterviewTaskError::InvalidField {
                    field: "loanInfo",
                    reason: "there is no loan information to confirm",
                });
            }
            SessionEvent::LoanInfoConfirmed {
                info: Box::new(ctx.session.loan_info.clone()),
            }
        }
        SessionCommand::EditLoanInfo { changes } => {
            changes.check()?;
            let before = ctx.session.loan_info.clone();
            let after = merge(&before, changes);
            if after == before {
                return Err(InterviewTaskError::InvalidField {
                    field: "changes",
                    reason: "must change at least one field",
                });
            }
            SessionEvent::LoanInfoEdited {
                before: Box::new(before),
                after: Box::new(after),
            }
        }
        SessionCommand::EndCall {
            end,
            queued_at,
            answered_at,
        } => {
            if !(queued_at <= answered_at && answered_at <= ctx.now) {
                return Err(InterviewTaskError::InvalidField {
                    field: "answeredAt",
                    reason: "must satisfy queuedAt <= answeredAt <= now",
                });
            }
            // The seat ends the session: whoever is still in leaves with it.
            let mut legs = ctx.session.closed_legs.clone();
            legs.extend(
                ctx.session
                    .present
                    .iter()
                    .map(|(id, open)| closed_leg(id, open, ctx.now, end)),
            );
            legs.sort_by_key(|l| l.leg);
            SessionEvent::CallEnded {
                call_no: ctx.session.calls + 1,
                seat_no: ctx.seat_no.to_string(),
                end,
                queued_at,
                answered_at,
                ended_at: ctx.now,
                queue_seconds: (answered_at - queued_at).num_seconds(),
                talk_seconds: (ctx.now - answered_at).num_seconds(),
                legs,
            }
        }
    })
}

fn closed_leg(id_number: &str, open: &OpenLeg, left_at: DateTime<Utc>, end: CallEnd) -> CallLeg {
    CallLeg {
        leg: open.leg,
        id_number: id_number.to_string(),
        name: open.name.clone(),
        rejoin: open.rejoin,
        joined_at: open.joined_at,
        left_at,
        end,
        talk_seconds: (left_at - open.joined_at).num_seconds(),
    }
}

/// Applies a session event to the session state.
pub fn apply(session: &mut Session, event: &SessionEvent) {
    let done = |step: TaskStep, session: &mut Session| {
        if !session.done.contains(&step) {
            session.done.push(step);
        }
    };
    match event {
        SessionEvent::FieldInvestigationRecorded {
            video_witness_required,
            ..
        } => {
            session.video_witness_required = *video_witness_required;
            done(TaskStep::FieldInvestigation, session);
        }
        SessionEvent::IdentityChecked {
            id_number, passed, ..
        } => {
            session.identity.insert(id_number.clone(), *passed);
        }
        SessionEvent::VideoWitnessRecorded { id_number, .. } => {
            session.recordings += 1;
            if let Some(id) = id_number {
                *session.witnessed.entry(id.clone()).or_default() += 1;
            }
            done(TaskStep::VideoWitness, session);
        }
        SessionEvent::ParticipantJoined {
            id_number,
            name,
            leg,
            rejoin,
            joined_at,
            ..
        } => {
            session.present.insert(
                id_number.clone(),
                OpenLeg {
                    leg: *leg,
                    name: name.clone(),
                    rejoin: *rejoin,
                    joined_at: *joined_at,
                },
            );
        }
        SessionEvent::ParticipantLeft {
            id_number,
            end,
            left_at,
            ..
        } => {
            if let Some(open) = session.present.remove(id_number) {
                session
                    .closed_legs
                    .push(closed_leg(id_number, &open, *left_at, *end));
            }
        }
        SessionEvent::InfoEntryRecorded { .. } => done(TaskStep::InfoEntry, session),
        SessionEvent::SnapshotCaptured { .. } => session.snapshots += 1,
        SessionEvent::DocumentPushed { document_id, .. } => {
            session.documents.insert(document_id.clone(), false);
        }
        SessionEvent::DocumentSigned { document_id, .. } => {
            session.documents.insert(document_id.clone(), true);
        }
        SessionEvent::LoanInfoEdited { after, .. } => session.loan_info = (**after).clone(),
        SessionEvent::LoanInfoConfirmed { .. } => {}
        SessionEvent::CallEnded { .. } => {
            session.calls += 1;
            session.present.clear();
            session.closed_legs.clear();
        }
        SessionEvent::VideoTagged { .. } => session.tags += 1,
        SessionEvent::ChatMessageSent { .. } | SessionEvent::RemarkAdded { .. } => {}
    }
}
