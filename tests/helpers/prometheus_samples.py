"""Reads a Prometheus text file with the official client's parser and prints
one line per sample: NAME DOMAIN VALUE (the domain label, or - when none).
Exits non-zero when the file does not parse."""
import sys

from prometheus_client.parser import text_string_to_metric_families

with open(sys.argv[1], encoding="utf-8") as f:
    text = f.read()
for family in text_string_to_metric_families(text):
    for sample in family.samples:
        print(sample.name, sample.labels.get("domain", "-"), repr(float(sample.value)))
