"""Pure rules of the engineers' mobile API: positions and check-ins, deadlines shown on the phone,
the actions allowed now and how replayed actions resolve, idempotency fingerprints, signatures,
push payloads. No I/O, no clock: time is an argument."""
