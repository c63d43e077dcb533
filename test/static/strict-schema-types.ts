// The types the strict schemas are generated from for objects outside the Kubernetes API itself (the
// prometheus-operator's PodMonitor), by ts-json-schema-generator in strict-kubernetes-schema.ts.
import type { IPodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';

export interface PodMonitor extends IPodMonitor {}
