-- An imported rating may carry the row id its earlier system gave it (the ratings CSV's optional
-- row_id): two workers tapping the same face at one station in the same second are two
-- ratings, told apart by it, and a re-import of the same file still adds nothing.
ALTER TABLE ratings ADD COLUMN import_row TEXT;
