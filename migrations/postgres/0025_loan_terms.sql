-- The bank sets a 融信秒贷 loan's terms (issue 32): the credit system's offer,
-- the contract's terms as they stand (JSON of the domain's CreditOffer and
-- ContractTerms), what the customer chose at application, and the evidence of
-- every consent, verification and signature (who, when, which version).
-- Rows written before this migration fill these when the read model is
-- rebuilt: `facesign replay --projection loan_lineage`.
ALTER TABLE loan_applications ADD COLUMN product TEXT;
ALTER TABLE loan_applications ADD COLUMN route TEXT;
ALTER TABLE loan_applications ADD COLUMN term_months INTEGER;
ALTER TABLE loan_applications ADD COLUMN purpose TEXT;
ALTER TABLE loan_applications ADD COLUMN credit_offer TEXT;
ALTER TABLE loan_applications ADD COLUMN contract_terms TEXT;

CREATE TABLE loan_evidence
(
    loan_id    TEXT   NOT NULL,
    sequence   BIGINT NOT NULL,
    -- CONSENT, VERIFICATION or SIGNATURE.
    kind       TEXT   NOT NULL,
    -- The text accepted, the verification's purpose, or CONTRACT.
    subject    TEXT   NOT NULL,
    -- The text's version, or the contract terms' version.
    version    TEXT,
    -- The purpose declared, PASSED / FAILED, or the signed terms' digest.
    detail     TEXT,
    actor_id   TEXT   NOT NULL,
    actor_role TEXT   NOT NULL,
    at         TEXT   NOT NULL,
    PRIMARY KEY (loan_id, sequence)
);
