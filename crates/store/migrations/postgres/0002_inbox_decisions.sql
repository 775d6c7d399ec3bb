-- The decisions an inbox item offers (the escalate step's built-in ones and its named choices, with the fields a
-- person fills in), and which one was made.
ALTER TABLE inbox ADD COLUMN decisions TEXT NOT NULL DEFAULT '[]';
ALTER TABLE inbox ADD COLUMN decision TEXT;
