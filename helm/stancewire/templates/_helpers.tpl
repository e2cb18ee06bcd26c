{{/*
The chart name, 63 characters at most.
*/}}
{{- define "stancewire.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name of the release's resources: 63 characters at most (DNS names), leaving room
for the component suffixes below (-dispatcher-metrics is 19).
*/}}
{{- define "stancewire.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
chart-version label value.
*/}}
{{- define "stancewire.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every resource.
*/}}
{{- define "stancewire.labels" -}}
helm.sh/chart: {{ include "stancewire.chart" . }}
{{ include "stancewire.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: stancewire
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Selector labels of the release (no component).
*/}}
{{- define "stancewire.selectorLabels" -}}
app.kubernetes.io/name: {{ include "stancewire.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels of one component's resources. Call with (dict "root" $ "component" "worker").
*/}}
{{- define "stancewire.componentLabels" -}}
{{ include "stancewire.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
Selector labels of one component. Call with (dict "root" $ "component" "worker").
*/}}
{{- define "stancewire.componentSelectorLabels" -}}
{{ include "stancewire.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
The Prometheus job of a component, as named in docs/metrics.md and the alert rules.
*/}}
{{- define "stancewire.job" -}}
{{- if eq . "feeds" }}stancewire-ingest{{ else }}stancewire-{{ . }}{{ end }}
{{- end }}

{{/*
The ServiceAccount the pods run as.
*/}}
{{- define "stancewire.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "stancewire.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The image reference: repository@digest when a digest is given, else repository:tag
(the tag defaulting to the chart's appVersion).
*/}}
{{- define "stancewire.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The Secret holding desk tokens, webhook subscriptions (and their signing keys), and the
Kafka and Redis credentials.
*/}}
{{- define "stancewire.secretName" -}}
{{- default (include "stancewire.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/*
Kafka bootstrap servers: the subchart's service when kafka.enabled, else externalKafka.
*/}}
{{- define "stancewire.kafka.bootstrap" -}}
{{- if .Values.kafka.enabled }}
{{- printf "%s-kafka:9092" .Release.Name }}
{{- else }}
{{- .Values.externalKafka.bootstrap }}
{{- end }}
{{- end }}

{{/*
Kafka security protocol (the subchart is set to PLAINTEXT by this chart's values).
*/}}
{{- define "stancewire.kafka.protocol" -}}
{{- if .Values.kafka.enabled }}PLAINTEXT{{ else }}{{ .Values.externalKafka.securityProtocol }}{{ end }}
{{- end }}

{{/*
"true" when the Kafka CA is mounted.
*/}}
{{- define "stancewire.kafka.customCa" -}}
{{- if and (not .Values.kafka.enabled) (or .Values.externalKafka.tls.caCert .Values.externalKafka.tls.caFromExistingSecret) }}true{{ end }}
{{- end }}

{{/*
"true" when Redis needs a password.
*/}}
{{- define "stancewire.redis.auth" -}}
{{- if .Values.redis.enabled }}
{{- if .Values.redis.auth.enabled }}true{{ end }}
{{- else if .Values.externalRedis.auth.enabled }}true{{ end }}
{{- end }}

{{/*
The Redis URL; with a password, $(STANCEWIRE_REDIS_PASSWORD) is put into it (Kubernetes
expands it from the variable defined just before).
*/}}
{{- define "stancewire.redis.url" -}}
{{- $url := .Values.externalRedis.url }}
{{- if .Values.redis.enabled }}
{{- $url = printf "redis://%s-redis-master:6379/0" .Release.Name }}
{{- end }}
{{- if include "stancewire.redis.auth" . }}
{{- $parts := regexSplit "://" $url 2 }}
{{- if ne (len $parts) 2 }}
{{- fail (printf "externalRedis.url %q is not a redis:// or rediss:// URL" $url) }}
{{- end }}
{{- $rest := index $parts 1 }}
{{- if regexMatch "^[^/]*@" $rest }}
{{- $rest = regexReplaceAll "^([^/:@]*)(:[^/@]*)?@" $rest "${1}:$$(STANCEWIRE_REDIS_PASSWORD)@" }}
{{- else }}
{{- $rest = printf ":$(STANCEWIRE_REDIS_PASSWORD)@%s" $rest }}
{{- end }}
{{- printf "%s://%s" (index $parts 0) $rest }}
{{- else }}
{{- $url }}
{{- end }}
{{- end }}

{{/*
Where the Redis password comes from: (dict "name" ... "key" ...).
*/}}
{{- define "stancewire.redis.passwordRef" -}}
{{- if .Values.redis.enabled -}}
name: {{ printf "%s-redis" .Release.Name }}
key: redis-password
{{- else -}}
name: {{ include "stancewire.secretName" . }}
key: redis-password
{{- end }}
{{- end }}

{{/*
A checksum of the connection settings (Kafka and Redis, credentials included): a change
rolls every pod.
*/}}
{{- define "stancewire.checksum.connection" -}}
{{- toJson (dict "kafka" .Values.externalKafka "redis" .Values.externalRedis "env" .Values.env "kafkaEnabled" .Values.kafka.enabled "redisEnabled" .Values.redis.enabled) | sha256sum }}
{{- end }}

{{/*
Environment of every stancewire container. Call with (dict "root" $ "values" .Values.worker).
*/}}
{{- define "stancewire.env" -}}
{{- $root := .root }}
{{- $protocol := include "stancewire.kafka.protocol" $root -}}
- name: STANCEWIRE_BOOTSTRAP
  value: {{ include "stancewire.kafka.bootstrap" $root | quote }}
- name: STANCEWIRE_KAFKA_SECURITY_PROTOCOL
  value: {{ $protocol | quote }}
{{- if hasPrefix "SASL_" $protocol }}
- name: STANCEWIRE_KAFKA_SASL_MECHANISM
  value: {{ $root.Values.externalKafka.sasl.mechanism | quote }}
- name: STANCEWIRE_KAFKA_SASL_USERNAME
  value: {{ $root.Values.externalKafka.sasl.username | quote }}
- name: STANCEWIRE_KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "stancewire.secretName" $root }}
      key: kafka-sasl-password
{{- end }}
{{- if include "stancewire.kafka.customCa" $root }}
- name: STANCEWIRE_KAFKA_SSL_CAFILE
  value: /etc/stancewire/kafka-tls/ca.crt
{{- end }}
{{- if include "stancewire.redis.auth" $root }}
- name: STANCEWIRE_REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      {{- include "stancewire.redis.passwordRef" $root | nindent 6 }}
{{- end }}
- name: STANCEWIRE_REDIS_URL
  value: {{ include "stancewire.redis.url" $root | quote }}
- name: STANCEWIRE_METRICS_HOST
  value: "0.0.0.0"
- name: STANCEWIRE_METRICS_PORT
  value: {{ .values.metricsPort | quote }}
{{- with $root.Values.env }}
{{ toYaml . }}
{{- end }}
{{- with .values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Volume mounts every stancewire container has: writable /tmp and working directory (the
root filesystem is read-only), and the Kafka CA when one is configured.
*/}}
{{- define "stancewire.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: data
  mountPath: /var/lib/stancewire
{{- if include "stancewire.kafka.customCa" . }}
- name: kafka-tls
  mountPath: /etc/stancewire/kafka-tls
  readOnly: true
{{- end }}
{{- end }}

{{/*
The volumes behind stancewire.volumeMounts.
*/}}
{{- define "stancewire.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
- name: data
  emptyDir:
    sizeLimit: 256Mi
{{- if include "stancewire.kafka.customCa" . }}
- name: kafka-tls
  secret:
    secretName: {{ include "stancewire.secretName" . }}
    defaultMode: 0440
    items:
      - key: kafka-ca.crt
        path: ca.crt
{{- end }}
{{- end }}

{{/*
Pod-level settings shared by the Deployments. Call with (dict "root" $ "values" .Values.worker).
*/}}
{{- define "stancewire.podSettings" -}}
{{- $root := .root -}}
serviceAccountName: {{ include "stancewire.serviceAccountName" $root }}
automountServiceAccountToken: {{ $root.Values.serviceAccount.automountServiceAccountToken }}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml $root.Values.podSecurityContext | nindent 2 }}
terminationGracePeriodSeconds: {{ .values.terminationGracePeriodSeconds }}
{{- with .values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
Container settings shared by the Deployments: image, security context, resources, probes.
Call with (dict "root" $ "values" .Values.worker).
*/}}
{{- define "stancewire.containerSettings" -}}
{{- $root := .root -}}
image: {{ include "stancewire.image" $root | quote }}
imagePullPolicy: {{ $root.Values.image.pullPolicy }}
workingDir: /var/lib/stancewire
securityContext:
  {{- toYaml $root.Values.containerSecurityContext | nindent 2 }}
resources:
  {{- toYaml .values.resources | nindent 2 }}
{{- with .values.startupProbe }}
startupProbe:
  {{- toYaml . | nindent 2 }}
{{- end }}
livenessProbe:
  {{- toYaml .values.livenessProbe | nindent 2 }}
readinessProbe:
  {{- toYaml .values.readinessProbe | nindent 2 }}
{{- end }}
