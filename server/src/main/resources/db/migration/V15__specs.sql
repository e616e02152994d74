-- The manifest as parsed and checked once, when the build or release is stored (Manifest.stored): read back without
-- parsing its TOML again. The text stays for display. Rows stored before get theirs at the next start (storeSpecs).
ALTER TABLE builds ADD COLUMN spec TEXT;
ALTER TABLE releases ADD COLUMN spec TEXT;
