"""The hand-written SQL baselines of ``contacts_with_leads_service``, one engine after the other.

The job, as the service does it: stage the input rows; create each contact whose normalised
email is not in the table yet (when the input repeats a person, the first row wins); create
every lead, linked to the contact with its email and to that contact's account; write one
``create`` audit entry per new contact and lead, with the same keys the app writes (empty
fields left out). All in one transaction.

Each engine has several ways of finding the missing contacts; the harness runs them all and
the fastest whose checks pass is reported as the baseline (the others stay in the results
file under ``baseline_alternatives``).

Normalisation is ``lower(trim(email))``: the input is ASCII padded with spaces, on which it
equals the app's NFKC + casefold + strip.
"""

# SQLite ----------------------------------------------------------------------------------------
# Named parameters: :now (text timestamp, UTC), :actor (user id), :contact_mark and
# :lead_mark (highest ids before the run; the transaction holds the write lock, so every id
# above them is this run's).

SQLITE_STAGE = """
CREATE TEMP TABLE bench_stage (
    seq INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    job_title TEXT NOT NULL,
    topic TEXT
)
"""
SQLITE_STAGE_INSERT = "INSERT INTO bench_stage VALUES (?, ?, ?, ?, ?, ?)"
SQLITE_DROP_STAGE = "DROP TABLE temp.bench_stage"

SQLITE_CONTACTS = {
    # The unique index on email_normalized does the matching: a row whose email exists, or
    # appeared earlier in the input (ORDER BY seq makes the first row win), is skipped.
    # ("WHERE true" is how SQLite's grammar tells the SELECT from the ON CONFLICT clause.)
    "sqlite: upsert (ON CONFLICT DO NOTHING)": """
INSERT INTO crm_contact (created_at, updated_at, owner_id, email, email_normalized, first_name,
    last_name, job_title, role, phone, country, account_id, marketing_only, consent,
    origin_channel)
SELECT :now, :now, :actor, trim(s.email), lower(trim(s.email)), s.first_name, s.last_name,
    s.job_title, 'other', '', '', NULL, 0, 'unknown', 'import'
FROM bench_stage s
WHERE true
ORDER BY s.seq
ON CONFLICT (email_normalized) DO NOTHING
""",
    # First row per email (IN a grouped subquery), minus the emails already present: SQLite
    # answers NOT IN (SELECT indexed column) from the index without a correlated subquery.
    "sqlite: anti-join (NOT IN)": """
INSERT INTO crm_contact (created_at, updated_at, owner_id, email, email_normalized, first_name,
    last_name, job_title, role, phone, country, account_id, marketing_only, consent,
    origin_channel)
SELECT :now, :now, :actor, trim(s.email), lower(trim(s.email)), s.first_name, s.last_name,
    s.job_title, 'other', '', '', NULL, 0, 'unknown', 'import'
FROM bench_stage s
WHERE s.seq IN (SELECT min(seq) FROM bench_stage GROUP BY lower(trim(email)))
  AND lower(trim(s.email)) NOT IN (
      SELECT email_normalized FROM crm_contact WHERE email_normalized IS NOT NULL)
ORDER BY s.seq
""",
    # The same with a correlated NOT EXISTS, one index probe per staged row.
    "sqlite: anti-join (NOT EXISTS)": """
INSERT INTO crm_contact (created_at, updated_at, owner_id, email, email_normalized, first_name,
    last_name, job_title, role, phone, country, account_id, marketing_only, consent,
    origin_channel)
SELECT :now, :now, :actor, trim(s.email), lower(trim(s.email)), s.first_name, s.last_name,
    s.job_title, 'other', '', '', NULL, 0, 'unknown', 'import'
FROM bench_stage s
WHERE s.seq IN (SELECT min(seq) FROM bench_stage GROUP BY lower(trim(email)))
  AND NOT EXISTS (
      SELECT 1 FROM crm_contact c WHERE c.email_normalized = lower(trim(s.email)))
ORDER BY s.seq
""",
}

# Every staged topic becomes a lead of the contact with that email: one probe of the unique
# email index per lead.
SQLITE_LEADS = """
INSERT INTO crm_lead (created_at, updated_at, owner_id, topic, source_channel, origin_ref,
    campaign, parent_contact_id, parent_account_id, status, sales_ready, telemarketing_ready,
    description)
SELECT :now, :now, :actor, s.topic, 'import', '', '', c.id, c.account_id, 'open', 0, 0, ''
FROM bench_stage s
JOIN crm_contact c ON c.email_normalized = lower(trim(s.email))
WHERE s.topic IS NOT NULL
ORDER BY s.seq
"""

# json_patch drops a key whose value in the patch is NULL (RFC 7396), which leaves empty
# fields out as the app does.
SQLITE_AUDIT_CONTACTS = """
INSERT INTO audit_auditentry (actor_id, action, record_type, record_id, record_repr, changes, at)
SELECT :actor, 'create', 'crm.contact', n.id,
    coalesce(nullif(trim(n.first_name || ' ' || n.last_name), ''), nullif(n.email, ''),
             'Contact ' || n.id),
    json_patch(
        json_object(
            'email_normalized', json_array(NULL, n.email_normalized),
            'role', json_array(NULL, n.role),
            'marketing_only',
                json_array(NULL, json(CASE WHEN n.marketing_only THEN 'true' ELSE 'false' END)),
            'consent', json_array(NULL, n.consent),
            'origin_channel', json_array(NULL, n.origin_channel)),
        json_object(
            'owner', CASE WHEN n.owner_id IS NOT NULL THEN json_array(NULL, n.owner_id) END,
            'email', CASE WHEN n.email <> '' THEN json_array(NULL, n.email) END,
            'first_name', CASE WHEN n.first_name <> '' THEN json_array(NULL, n.first_name) END,
            'last_name', CASE WHEN n.last_name <> '' THEN json_array(NULL, n.last_name) END,
            'job_title', CASE WHEN n.job_title <> '' THEN json_array(NULL, n.job_title) END)),
    :now
FROM crm_contact n
WHERE n.id > :contact_mark
"""
SQLITE_AUDIT_LEADS = """
INSERT INTO audit_auditentry (actor_id, action, record_type, record_id, record_repr, changes, at)
SELECT :actor, 'create', 'crm.lead', n.id, substr(n.topic, 1, 200),
    json_patch(
        json_object(
            'topic', json_array(NULL, n.topic),
            'source_channel', json_array(NULL, n.source_channel),
            'parent_contact', json_array(NULL, n.parent_contact_id),
            'status', json_array(NULL, n.status),
            'sales_ready',
                json_array(NULL, json(CASE WHEN n.sales_ready THEN 'true' ELSE 'false' END)),
            'telemarketing_ready',
                json_array(NULL, json(CASE WHEN n.telemarketing_ready THEN 'true' ELSE 'false' END))
        ),
        json_object(
            'owner', CASE WHEN n.owner_id IS NOT NULL THEN json_array(NULL, n.owner_id) END,
            'parent_account',
                CASE WHEN n.parent_account_id IS NOT NULL
                THEN json_array(NULL, n.parent_account_id) END)),
    :now
FROM crm_lead n
WHERE n.id > :lead_mark
"""

# PostgreSQL ------------------------------------------------------------------------------------
# Named parameters: %(now)s (timestamptz), %(actor)s (user id). Rows are COPYed into a
# temporary table (no WAL, dropped at commit) and ANALYZEd, so the planner knows its size
# when it chooses between index probes and a hash join. Each INSERT feeds its audit entries
# through a data-modifying CTE (RETURNING), so no new row is read back.

PG_STAGE = """
CREATE TEMP TABLE bench_stage (
    seq integer PRIMARY KEY,
    email text NOT NULL,
    first_name text NOT NULL,
    last_name text NOT NULL,
    job_title text NOT NULL,
    topic text
) ON COMMIT DROP
"""
PG_STAGE_COPY = "COPY bench_stage (seq, email, first_name, last_name, job_title, topic) FROM STDIN"
PG_STAGE_ANALYZE = "ANALYZE bench_stage"

PG_CONTACTS = {
    # The unique index does the matching; ORDER BY seq makes the first of repeated rows win.
    "postgres: upsert (ON CONFLICT DO NOTHING)": """
WITH new_contacts AS (
    INSERT INTO crm_contact (created_at, updated_at, owner_id, email, email_normalized,
        first_name, last_name, job_title, role, phone, country, account_id, marketing_only,
        consent, origin_channel)
    SELECT %(now)s, %(now)s, %(actor)s, trim(s.email), lower(trim(s.email)), s.first_name,
        s.last_name, s.job_title, 'other', '', '', NULL, false, 'unknown', 'import'
    FROM bench_stage s
    ORDER BY s.seq
    ON CONFLICT (email_normalized) DO NOTHING
    RETURNING *
)
INSERT INTO audit_auditentry (actor_id, action, record_type, record_id, record_repr, changes, at)
SELECT %(actor)s, 'create', 'crm.contact', n.id,
    coalesce(nullif(trim(n.first_name || ' ' || n.last_name), ''), nullif(n.email, ''),
             'Contact ' || n.id),
    jsonb_strip_nulls(jsonb_build_object(
        'owner', CASE WHEN n.owner_id IS NOT NULL THEN jsonb_build_array(NULL, n.owner_id) END,
        'email', CASE WHEN n.email <> '' THEN jsonb_build_array(NULL, n.email) END,
        'email_normalized', jsonb_build_array(NULL, n.email_normalized),
        'first_name', CASE WHEN n.first_name <> '' THEN jsonb_build_array(NULL, n.first_name) END,
        'last_name', CASE WHEN n.last_name <> '' THEN jsonb_build_array(NULL, n.last_name) END,
        'job_title', CASE WHEN n.job_title <> '' THEN jsonb_build_array(NULL, n.job_title) END,
        'role', jsonb_build_array(NULL, n.role),
        'marketing_only', jsonb_build_array(NULL, n.marketing_only),
        'consent', jsonb_build_array(NULL, n.consent),
        'origin_channel', jsonb_build_array(NULL, n.origin_channel))),
    %(now)s
FROM new_contacts n
""",
    # DISTINCT ON keeps the first row per email and NOT EXISTS becomes an anti-join (hash or
    # index), so no insert is attempted only to conflict.
    "postgres: anti-join (DISTINCT ON + NOT EXISTS)": """
WITH new_contacts AS (
    INSERT INTO crm_contact (created_at, updated_at, owner_id, email, email_normalized,
        first_name, last_name, job_title, role, phone, country, account_id, marketing_only,
        consent, origin_channel)
    SELECT %(now)s, %(now)s, %(actor)s, trim(s.email), s.email_normalized, s.first_name,
        s.last_name, s.job_title, 'other', '', '', NULL, false, 'unknown', 'import'
    FROM (
        SELECT DISTINCT ON (lower(trim(email))) *, lower(trim(email)) AS email_normalized
        FROM bench_stage
        ORDER BY lower(trim(email)), seq
    ) s
    WHERE NOT EXISTS (SELECT 1 FROM crm_contact c WHERE c.email_normalized = s.email_normalized)
    ORDER BY s.seq
    RETURNING *
)
INSERT INTO audit_auditentry (actor_id, action, record_type, record_id, record_repr, changes, at)
SELECT %(actor)s, 'create', 'crm.contact', n.id,
    coalesce(nullif(trim(n.first_name || ' ' || n.last_name), ''), nullif(n.email, ''),
             'Contact ' || n.id),
    jsonb_strip_nulls(jsonb_build_object(
        'owner', CASE WHEN n.owner_id IS NOT NULL THEN jsonb_build_array(NULL, n.owner_id) END,
        'email', CASE WHEN n.email <> '' THEN jsonb_build_array(NULL, n.email) END,
        'email_normalized', jsonb_build_array(NULL, n.email_normalized),
        'first_name', CASE WHEN n.first_name <> '' THEN jsonb_build_array(NULL, n.first_name) END,
        'last_name', CASE WHEN n.last_name <> '' THEN jsonb_build_array(NULL, n.last_name) END,
        'job_title', CASE WHEN n.job_title <> '' THEN jsonb_build_array(NULL, n.job_title) END,
        'role', jsonb_build_array(NULL, n.role),
        'marketing_only', jsonb_build_array(NULL, n.marketing_only),
        'consent', jsonb_build_array(NULL, n.consent),
        'origin_channel', jsonb_build_array(NULL, n.origin_channel))),
    %(now)s
FROM new_contacts n
""",
}

PG_LEADS = """
WITH new_leads AS (
    INSERT INTO crm_lead (created_at, updated_at, owner_id, topic, source_channel, origin_ref,
        campaign, parent_contact_id, parent_account_id, status, sales_ready,
        telemarketing_ready, description)
    SELECT %(now)s, %(now)s, %(actor)s, s.topic, 'import', '', '', c.id, c.account_id, 'open',
        false, false, ''
    FROM bench_stage s
    JOIN crm_contact c ON c.email_normalized = lower(trim(s.email))
    WHERE s.topic IS NOT NULL
    ORDER BY s.seq
    RETURNING *
)
INSERT INTO audit_auditentry (actor_id, action, record_type, record_id, record_repr, changes, at)
SELECT %(actor)s, 'create', 'crm.lead', n.id, left(n.topic, 200),
    jsonb_strip_nulls(jsonb_build_object(
        'owner', CASE WHEN n.owner_id IS NOT NULL THEN jsonb_build_array(NULL, n.owner_id) END,
        'topic', jsonb_build_array(NULL, n.topic),
        'source_channel', jsonb_build_array(NULL, n.source_channel),
        'parent_contact', jsonb_build_array(NULL, n.parent_contact_id),
        'parent_account', CASE WHEN n.parent_account_id IS NOT NULL
            THEN jsonb_build_array(NULL, n.parent_account_id) END,
        'status', jsonb_build_array(NULL, n.status),
        'sales_ready', jsonb_build_array(NULL, n.sales_ready),
        'telemarketing_ready', jsonb_build_array(NULL, n.telemarketing_ready))),
    %(now)s
FROM new_leads n
"""
