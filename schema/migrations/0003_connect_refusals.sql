-- 0003_connect_refusals.sql: why the broker last refused a device's CONNECT.
--
-- The broker plugin announces every refusal on /as/mqtt/refused (wrong
-- secret, disabled, bad clientId, ...); haas-emu keeps the last one per
-- device so the console can say why a device does not come online.
-- last_refusal is the plugin's JSON as received (code, reason, clientId,
-- clientIp, time); last_refusal_at is seconds since the epoch.

ALTER TABLE devices ADD COLUMN last_refusal TEXT;
ALTER TABLE devices ADD COLUMN last_refusal_at INTEGER;
