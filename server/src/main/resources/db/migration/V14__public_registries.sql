-- An app whose registry is public: its builds, artifacts, signatures, consoles and provenance may be read with no
-- token, as builder-web serves them, so a host that pulls its unikernel holds no secret. Nothing else about the app
-- is opened by it. Apps made before this stay private.
ALTER TABLE apps ADD COLUMN public_registry BOOLEAN NOT NULL DEFAULT FALSE;
