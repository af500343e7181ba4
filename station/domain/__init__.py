"""Pure domain rules of the capture station: students, capture records, desk rules. No Qt, no I/O."""
