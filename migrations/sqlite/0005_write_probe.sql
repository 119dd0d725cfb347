-- One row that /readyz rewrites while writes are failing (a full disk): the smallest write
-- that must reach the disk, to tell when writes commit again.
CREATE TABLE write_probe (
    id        INTEGER PRIMARY KEY,
    probed_at BIGINT  NOT NULL
);
