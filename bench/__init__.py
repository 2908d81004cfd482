"""Speed benchmarks: seed a large database, time the busiest screens (`make bench`)."""
