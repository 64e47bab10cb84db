//! The integration test binary: black-box tests over HTTP/GraphQL and the log,
//! each against a fresh database on both backends. Postgres tests need the
//! server at FACESIGN_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres)
//! and fail, never skip, when it is missing.

mod admin_catalog;
mod alerts;
mod backup;
mod case_data;
mod channels;
mod cluster;
mod command_bus;
mod connections;
mod consistency;
mod console;
mod contracts;
mod crate_graph;
mod dispatch;
mod doc_paths;
mod faults;
mod global_log;
mod graphql_tasks;
mod hardening;
mod hostile;
mod idempotency;
mod identity;
mod interview_room;
mod kafka;
mod kafka_tls;
mod languages;
mod loaders;
mod loan_back_office;
mod loan_notices;
mod loan_servicing;
mod loans;
mod masking;
mod migration_job;
mod operations;
mod ownership;
mod parked;
mod partner_gateway;
mod partner_loans;
mod partners;
mod postgres_tls;
mod quality;
mod quiet;
mod replay;
mod scheduling;
mod seat_loan_info;
mod secrets;
mod security;
mod sms;
mod sockets;
mod support;
mod tamper;
mod text_inputs;
mod traces;
