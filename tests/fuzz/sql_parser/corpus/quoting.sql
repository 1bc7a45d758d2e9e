SELECT "Select", "a""b", x AS "Y", zürich, t.*, db.t.* FROM "My Table" AS "T" -- comment
/* block /* nested */ */ WHERE 'it''s' = s