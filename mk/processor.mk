# The sensor processor (services/processor): local run and benchmark. Included by the top-level Makefile.

.PHONY: run-local bench-processor

run-local: setup ## run consume + serve against local PostgreSQL, Redis and emulated Kinesis (Ctrl-C stops)
	$(VPY) scripts/run_processor_local.py

bench-processor: setup ## processing core vs raw COPY vs naive INSERTs on a realistic mix; ends with ratio_vs_copy=<x> ratio_vs_naive=<y> duplicate_rate=<d> invalid_rate=<i>
	$(VPY) scripts/bench_processor.py
