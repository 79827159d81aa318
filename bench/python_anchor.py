"""The anchor for the cost comparison: what Python 3.11 + boto3 costs in CPU on this machine.

The original handler's source is not in this repository, so it cannot be run. What can be measured
is the part of its work that every Python/boto3 handler does: importing boto3 and creating the
clients (cold start), and the client-side CPU of one DynamoDB GetItem / PutItem and one SNS Publish
(serialisation, SigV4 signing, HTTP, parsing). The calls go to a local moto server (another
process: its CPU is not counted; `time.process_time()` counts this process only).

Run inside tests/support/moto_fixture.py, which starts moto and sets AWS_*:
  python3 tests/support/moto_fixture.py run -- python3 bench/python_anchor.py --json FILE [--calls N]
"""
import argparse
import json
import os
import platform
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", required=True)
    ap.add_argument("--calls", type=int, default=300)
    a = ap.parse_args()

    c0 = time.process_time()
    import boto3  # noqa: E402 — the import is part of what is measured
    region = os.environ.get("AWS_REGION", "us-east-1")
    ddb = boto3.client("dynamodb", region_name=region)
    sns = boto3.client("sns", region_name=region)
    init_ms = (time.process_time() - c0) * 1000

    table = "anchor"
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "tracking_id", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "tracking_id", "KeyType": "HASH"}])
    topic = sns.create_topic(Name="anchor")["TopicArn"]
    item = {"tracking_id": {"S": "TRK001"}, "location": {"S": "Lima"}, "status": {"S": "IN_TRANSIT"},
            "timestamp": {"N": "1795969066"}, "notes": {"S": "Left the hub"}}
    ddb.put_item(TableName=table, Item=item)  # warm-up: endpoint resolution, connection
    ddb.get_item(TableName=table, Key={"tracking_id": {"S": "TRK001"}})
    sns.publish(TopicArn=topic, Message=json.dumps({"tracking_id": "TRK001"}))

    def per_call(fn):
        t0 = time.process_time()
        for i in range(a.calls):
            fn(i)
        return (time.process_time() - t0) * 1000 / a.calls

    put_ms = per_call(lambda i: ddb.put_item(TableName=table, Item=dict(item, tracking_id={"S": "TRK%06d" % i})))
    get_ms = per_call(lambda i: ddb.get_item(TableName=table, Key={"tracking_id": {"S": "TRK%06d" % i}}))
    pub_ms = per_call(lambda i: sns.publish(TopicArn=topic, Message=json.dumps({"tracking_id": "TRK%06d" % i})))
    import botocore
    figures = {"python": platform.python_version(), "boto3": boto3.__version__, "botocore": botocore.__version__,
               "calls": a.calls, "init_cpu_ms": init_ms, "get_item_ms": get_ms, "put_item_ms": put_ms,
               "publish_ms": pub_ms, "per_call_cpu_ms": (get_ms + put_ms + pub_ms) / 3.0}
    with open(a.json, "w") as f:
        json.dump(figures, f, indent=1)
    print("python_anchor: Python %s, boto3 %s: import + clients %.0f ms CPU; per call GetItem %.2f ms, PutItem %.2f ms,"
          " Publish %.2f ms CPU" % (figures["python"], figures["boto3"], init_ms, get_ms, put_ms, pub_ms))
    return 0


if __name__ == "__main__":
    sys.exit(main())
