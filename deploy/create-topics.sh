#!/bin/sh
# Creates Vigil's topics on a Kafka cluster, idempotently, with Apache Kafka's own tools
# (docker-compose.yml runs it once in the apache/kafka image; run it by hand against any cluster:
#   BOOTSTRAP=broker-1:9092 REPLICATION=3 KAFKA_BIN=/opt/kafka/bin sh deploy/create-topics.sh).
#
# - The three input topics get the SAME partition count: Vigil relies on co-partitioning by
#   officer_id (librdkafka's default partitioner). The script fails if existing input topics
#   disagree, and never adds partitions: that would move keys already written.
# - Every delete-policy topic keeps 7 days (retention.ms), also when it already existed: recovery
#   re-reads the input since the last snapshot and the outputs from where they stood then
#   (deploy/README.md, "Input retention").
# - vigil.reviews (review decisions of `vigil dashboard`, keyed by alert id) is compacted, never
#   deleted by age.
# POSIX sh: the apache/kafka image is Alpine-based.
set -eu

BOOTSTRAP=${BOOTSTRAP:-kafka:9092}
KAFKA_BIN=${KAFKA_BIN:-/opt/kafka/bin}
PARTITIONS=${PARTITIONS:-6}
REPLICATION=${REPLICATION:-1}
RETENTION_MS=${RETENTION_MS:-604800000}
INPUT_TOPICS=${INPUT_TOPICS:-"vigil.roster vigil.access vigil.complaints"}
OUTPUT_TOPICS=${OUTPUT_TOPICS:-"vigil.alerts vigil.alerts.shadow vigil.dlq vigil.audit"}
COMPACTED_TOPICS=${COMPACTED_TOPICS:-"vigil.reviews"}

topics() { "$KAFKA_BIN/kafka-topics.sh" --bootstrap-server "$BOOTSTRAP" "$@"; }
configs() { "$KAFKA_BIN/kafka-configs.sh" --bootstrap-server "$BOOTSTRAP" "$@"; }

tries=0
until topics --list >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 30 ]; then
    echo "create-topics: no answer from $BOOTSTRAP after 30 tries" >&2
    exit 1
  fi
  echo "create-topics: waiting for $BOOTSTRAP"
  sleep 2
done

for t in $INPUT_TOPICS $OUTPUT_TOPICS; do
  topics --create --if-not-exists --topic "$t" --partitions "$PARTITIONS" \
    --replication-factor "$REPLICATION" \
    --config cleanup.policy=delete --config retention.ms="$RETENTION_MS"
  # --if-not-exists leaves an existing topic's settings alone: set the retention recovery needs.
  configs --alter --entity-type topics --entity-name "$t" --add-config retention.ms="$RETENTION_MS"
done
for t in $COMPACTED_TOPICS; do
  topics --create --if-not-exists --topic "$t" --partitions "$PARTITIONS" \
    --replication-factor "$REPLICATION" --config cleanup.policy=compact
done

# The co-partitioning check: every input topic has the same partition count.
first=""
for t in $INPUT_TOPICS; do
  count=$(topics --describe --topic "$t" | sed -n 's/.*PartitionCount:[[:space:]]*\([0-9][0-9]*\).*/\1/p' | head -n 1)
  if [ -z "$count" ]; then
    echo "create-topics: cannot read the partition count of $t" >&2
    exit 1
  fi
  echo "create-topics: $t has $count partitions"
  if [ -z "$first" ]; then
    first=$count
  elif [ "$count" != "$first" ]; then
    echo "create-topics: the input topics' partition counts differ ($t: $count, expected $first):" \
         "Vigil needs them equal (co-partitioning by officer_id)" >&2
    exit 1
  fi
done
if [ "$first" != "$PARTITIONS" ]; then
  echo "create-topics: note: the input topics existed with $first partitions (PARTITIONS=$PARTITIONS);" \
       "left as they are"
fi
echo "create-topics: done"
