{{/*
Names, labels and shared pieces of the Hearth chart. A "service" below is one entry of
.Values.services; helpers that need one take a dict with root (the top context), name
(the service's key) and svc (its values).
*/}}

{{- define "hearth.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The prefix of every resource name: the release name, with "-hearth" unless it has it. */}}
{{- define "hearth.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "hearth.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every resource of the release. */}}
{{- define "hearth.commonLabels" -}}
helm.sh/chart: {{ include "hearth.chart" . }}
app.kubernetes.io/name: {{ include "hearth.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: hearth
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels that select every Hearth pod of the release (NetworkPolicy peers). */}}
{{- define "hearth.releaseSelectorLabels" -}}
app.kubernetes.io/name: {{ include "hearth.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels that select one service's pods. Takes (dict "root" $ "name" $name). */}}
{{- define "hearth.selectorLabels" -}}
{{ include "hearth.releaseSelectorLabels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{/* Labels of one service's resources. Takes (dict "root" $ "name" $name). */}}
{{- define "hearth.labels" -}}
{{ include "hearth.commonLabels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end }}

{{/* The name of one service's resources (Deployment, Service, ...). Takes (dict "root" $ "name" $name). */}}
{{- define "hearth.serviceFullname" -}}
{{- printf "%s-%s" (include "hearth.fullname" .root) .name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The env prefix of one service's settings: IDENTITY_ for identity. */}}
{{- define "hearth.envPrefix" -}}
{{- printf "%s_" (upper .) }}
{{- end }}

{{/* The image of one service: <registry>/<repository>:<tag>. Takes (dict "root" $ "name" $name "svc" $svc). */}}
{{- define "hearth.image" -}}
{{- $image := .svc.image | default dict }}
{{- $repository := required (printf "services.%s.image.repository is required" .name) $image.repository }}
{{- $tag := $image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion }}
{{- if .root.Values.image.registry }}
{{- printf "%s/%s:%s" (trimSuffix "/" .root.Values.image.registry) $repository $tag }}
{{- else }}
{{- printf "%s:%s" $repository $tag }}
{{- end }}
{{- end }}

{{/* Kafka bootstrap servers, fully qualified (KEDA resolves them from its own namespace). */}}
{{- define "hearth.kafkaBootstrap" -}}
{{- if .Values.kafka.bootstrapServers }}
{{- .Values.kafka.bootstrapServers }}
{{- else }}
{{- printf "%s-kafka-bootstrap.%s.svc:9092" .Values.kafka.strimziCluster .Release.Namespace }}
{{- end }}
{{- end }}

{{/* The in-cluster URL of a service, or "" when it is not deployed. Takes (dict "root" $ "name" $name). */}}
{{- define "hearth.serviceUrl" -}}
{{- $svc := get .root.Values.services .name }}
{{- if and $svc $svc.enabled }}
{{- printf "http://%s:%v" (include "hearth.serviceFullname" .) $svc.port }}
{{- end }}
{{- end }}

{{/* True ("true") when an autoscaler (KEDA or HPA) owns the service's replica count. Takes (dict "root" $ "name" $name "svc" $svc). */}}
{{- define "hearth.keda" -}}
{{- if and .root.Values.keda.enabled .svc.keda .svc.keda.enabled }}true{{ end }}
{{- end }}
{{- define "hearth.hpa" -}}
{{- if and .root.Values.hpa.enabled .svc.hpa .svc.hpa.enabled }}true{{ end }}
{{- end }}
{{- define "hearth.autoscaled" -}}
{{- if or (include "hearth.keda" .) (include "hearth.hpa" .) }}true{{ end }}
{{- end }}

{{/*
Where each secret setting of a service comes from: a list of
{env, secret, key, optional} (secret = the Secret's name). Required settings must resolve
(a ref, the existing Secret, or a value); optional ones are left out when not given.
Takes (dict "root" $ "name" $name "svc" $svc); returns YAML {items: [...]}.
*/}}
{{- define "hearth.secretSources" -}}
{{- $s := .svc.secrets | default dict }}
{{- $refs := $s.refs | default dict }}
{{- $values := $s.values | default dict }}
{{- $own := include "hearth.serviceFullname" . }}
{{- $items := list }}
{{- range $env := $s.required | default list }}
{{- $ref := get $refs $env }}
{{- if $ref }}
{{- $items = append $items (dict "env" $env "secret" (required (printf "services.%s.secrets.refs.%s.name is required" $.name $env) $ref.name) "key" ($ref.key | default $env) "optional" false) }}
{{- else if $s.existingSecret }}
{{- $items = append $items (dict "env" $env "secret" $s.existingSecret "key" $env "optional" false) }}
{{- else }}
{{- $items = append $items (dict "env" $env "secret" $own "key" $env "optional" false) }}
{{- end }}
{{- end }}
{{- range $env := $s.optional | default list }}
{{- $ref := get $refs $env }}
{{- if $ref }}
{{- $items = append $items (dict "env" $env "secret" (required (printf "services.%s.secrets.refs.%s.name is required" $.name $env) $ref.name) "key" ($ref.key | default $env) "optional" false) }}
{{- else if $s.existingSecret }}
{{- $items = append $items (dict "env" $env "secret" $s.existingSecret "key" $env "optional" true) }}
{{- else if get $values $env }}
{{- $items = append $items (dict "env" $env "secret" $own "key" $env "optional" false) }}
{{- end }}
{{- end }}
{{- toYaml (dict "items" $items) }}
{{- end }}

{{/*
The data of the Secret the chart creates for a service (empty when it needs none):
required settings without a ref, and optional ones with a value. A required setting with
no value fails the render: production refuses development defaults.
Takes (dict "root" $ "name" $name "svc" $svc); returns YAML {data: {...}}.
*/}}
{{- define "hearth.secretData" -}}
{{- $s := .svc.secrets | default dict }}
{{- $refs := $s.refs | default dict }}
{{- $values := $s.values | default dict }}
{{- $data := dict }}
{{- if not $s.existingSecret }}
{{- range $env := $s.required | default list }}
{{- if not (get $refs $env) }}
{{- $value := required (printf "services.%s.secrets.values.%s is required: HEARTH_ENV=production refuses development defaults. Give the value, or the name of a Secret holding it in services.%s.secrets.existingSecret (or services.%s.secrets.refs.%s)." $.name $env $.name $.name $env) (get $values $env) }}
{{- $_ := set $data $env $value }}
{{- end }}
{{- end }}
{{- range $env := $s.optional | default list }}
{{- if and (not (get $refs $env)) (get $values $env) }}
{{- $_ := set $data $env (get $values $env) }}
{{- end }}
{{- end }}
{{- end }}
{{- toYaml (dict "data" $data) }}
{{- end }}

{{/*
Refuse values that cannot work in production. Rendered (empty) by every template that
depends on them, so `helm template` fails with the reason.
*/}}
{{- define "hearth.validate" -}}
{{- $root := . }}
{{- $sd := .Values.shutdown }}
{{- if le (int $sd.terminationGracePeriodSeconds) (add (int $sd.preStopSleepSeconds) (int $sd.gracefulShutdownSeconds) | int) }}
{{- fail (printf "shutdown.terminationGracePeriodSeconds (%v) must be greater than shutdown.preStopSleepSeconds (%v) + shutdown.gracefulShutdownSeconds (%v), or in-flight work is killed" $sd.terminationGracePeriodSeconds $sd.preStopSleepSeconds $sd.gracefulShutdownSeconds) }}
{{- end }}
{{- $identity := get .Values.services "identity" }}
{{- if not (and $identity $identity.enabled) }}
{{- fail "services.identity must be enabled: every service verifies tokens against its JWKS" }}
{{- end }}
{{- range $name, $svc := .Values.services }}
{{- if not (regexMatch "^[a-z][a-z0-9_]*$" $name) }}
{{- fail (printf "service name %q must be a lower-case identifier (it is the image's SERVICE)" $name) }}
{{- end }}
{{- if $svc.enabled }}
{{- $ctx := dict "root" $root "name" $name "svc" $svc }}
{{- $s := $svc.secrets | default dict }}
{{- $secretNames := concat ($s.required | default list) ($s.optional | default list) }}
{{- range $env, $_ := $svc.env | default dict }}
{{- if or (has $env $secretNames) (regexMatch "(SECRET|PASSWORD|PASSWD|API_KEY|PRIVATE_KEY|CREDENTIAL|MONGODB_URL)" (upper $env)) }}
{{- fail (printf "services.%s.env.%s looks like a secret and would land in a ConfigMap: list it in services.%s.secrets.required or .optional and give it under services.%s.secrets" $name $env $name $name) }}
{{- end }}
{{- end }}
{{- range $env, $value := $s.values | default dict }}
{{- if not (has $env $secretNames) }}
{{- fail (printf "services.%s.secrets.values.%s is neither required nor optional for %s (names carry the service's prefix, e.g. %sSOMETHING)" $name $env $name (include "hearth.envPrefix" $name)) }}
{{- end }}
{{- if hasPrefix "dev-insecure-" (toString $value) }}
{{- fail (printf "services.%s.secrets.values.%s is a development default; production refuses it" $name $env) }}
{{- end }}
{{- end }}
{{- range $upstream := $svc.upstreams | default list }}
{{- if not (hasKey $root.Values.services $upstream) }}
{{- fail (printf "services.%s.upstreams names %q, which is not a service of this chart" $name $upstream) }}
{{- end }}
{{- end }}
{{- if and (include "hearth.keda" $ctx) (include "hearth.hpa" $ctx) }}
{{- fail (printf "services.%s has both keda and hpa enabled: KEDA creates its own HPA, choose one" $name) }}
{{- end }}
{{- if include "hearth.keda" $ctx }}
{{- if lt (int $svc.keda.minReplicas) 1 }}
{{- fail (printf "services.%s.keda.minReplicas must be at least 1: timers and live connections need a running replica" $name) }}
{{- end }}
{{- if not $svc.keda.topics }}
{{- fail (printf "services.%s.keda.topics is empty: list the topics its consumer group reads" $name) }}
{{- end }}
{{- end }}
{{- if include "hearth.hpa" $ctx }}
{{- if lt (int $svc.hpa.minReplicas) 1 }}
{{- fail (printf "services.%s.hpa.minReplicas must be at least 1" $name) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
