-- Letters: mails to an address outside the workspace (an applicant who has no account yet),
-- queued on the same durable queue as everything else delivered outward. `target` is the
-- record the letter is about; the payload carries the address, subject and body.

ALTER TABLE deliveries DROP CONSTRAINT deliveries_channel_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_channel_check
    CHECK (channel IN ('email', 'robot', 'letter'));
