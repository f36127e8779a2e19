#!/bin/sh
# Creates the lake bucket in MinIO (idempotent); run by the minio-init service of docker-compose.yml
# and, copied into a ConfigMap, by infra/k8s/minio-create-bucket-job.yaml.
set -eu
mc alias set lake "$MINIO_URL" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"
mc mb --ignore-existing "lake/$LAKE_BUCKET"
echo "bucket $LAKE_BUCKET ready"
