-- Opening hours, as the stations CSV gives them (feedback/places/hours.py); empty means unknown.
ALTER TABLE stations ADD COLUMN hours TEXT NOT NULL DEFAULT '';
