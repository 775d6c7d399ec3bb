-- The decisions an inbox item offers (the escalate step's built-in ones and its named choices, with the fields a
-- person fills in), and which one was made.
ALTER TABLE inbox ADD COLUMN decisions TEXT NOT NULL DEFAULT '[]';
ALTER TABLE inbox ADD COLUMN decision TEXT;
-- Items opened before this migration offered the built-in decisions; a decided one names its decision.
UPDATE inbox SET decisions = '[{"name":"resolve","label":"resolve","fields":{}},{"name":"retry","label":"retry","fields":{}},{"name":"dismiss","label":"dismiss","fields":{}}]';
UPDATE inbox SET decision = CASE status WHEN 'resolved' THEN 'resolve' WHEN 'retried' THEN 'retry' WHEN 'dismissed' THEN 'dismiss' END
    WHERE status IN ('resolved', 'retried', 'dismissed');
