-- A token for an app lives no longer than the app: destroying the app revokes its tokens and says why, so an app made
-- again under the same name is out of reach of the old one's tokens. Tokens left over from apps destroyed before this
-- are revoked here: as of that destroy where the audit trail has it, else as of their own creation.
ALTER TABLE tokens ADD COLUMN revoked_reason TEXT;

UPDATE tokens
   SET revoked_at = (SELECT MIN(a.at) FROM audit a WHERE a.app = tokens.app AND a.action = 'destroy' AND a.at >= tokens.created_at),
       revoked_reason = 'app ' || tokens.app || ' was destroyed'
 WHERE revoked_at IS NULL
   AND scope IN ('read', 'upload', 'deploy')
   AND EXISTS (SELECT 1 FROM audit a WHERE a.app = tokens.app AND a.action = 'destroy' AND a.at >= tokens.created_at);

UPDATE tokens
   SET revoked_at = created_at,
       revoked_reason = 'app ' || tokens.app || ' no longer exists'
 WHERE revoked_at IS NULL
   AND scope IN ('read', 'upload', 'deploy')
   AND NOT EXISTS (SELECT 1 FROM apps WHERE apps.name = tokens.app);
