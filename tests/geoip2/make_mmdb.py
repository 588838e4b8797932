#!/usr/bin/env python3
"""Write a tiny GeoLite2-Country style MaxMind DB for tests/geoip2/run.sh.

10.0.0.0/8 -> PT, 11.0.0.0/8 -> DE; everything else (127.0.0.1 too) is not found.
Usage: make_mmdb.py OUT.mmdb
"""
import sys

from mmdb_writer import MMDBWriter
from netaddr import IPSet


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: make_mmdb.py OUT.mmdb")
    writer = MMDBWriter(ip_version=4, database_type="GeoLite2-Country",
                        languages=["en"], description="frontend-gray geoip2 test")
    writer.insert_network(IPSet(["10.0.0.0/8"]), {"country": {"iso_code": "PT"}})
    writer.insert_network(IPSet(["11.0.0.0/8"]), {"country": {"iso_code": "DE"}})
    writer.to_db_file(sys.argv[1])


if __name__ == "__main__":
    main()
