# codat-reconciler as a container image: `watch` by default, any command by argument.
#
#   docker build --build-arg VERSION="$(python3 -c 'import reconciler; print(reconciler.__version__)')" \
#     -t codat-reconciler .
#   docker run --rm -v "$PWD/manifests:/manifests:ro" -e CODAT_API_KEY codat-reconciler plan /manifests
#
# VERSION must be the package's version (reconciler/__init__.py, its one source): the
# build stops otherwise, so the image's version label cannot say something else.

FROM python:3.11-slim AS build
ARG VERSION
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY reconciler ./reconciler
# The wheel from this checkout: what you reviewed is what the image runs.
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
    && built="$(basename /wheels/codat_reconciler-*.whl)" \
    && if [ "$built" != "codat_reconciler-${VERSION}-py3-none-any.whl" ]; then \
         echo "error: built ${built}; give its version: --build-arg VERSION=..." >&2; \
         exit 1; \
       fi

FROM python:3.11-slim
ARG VERSION
LABEL org.opencontainers.image.title="codat-reconciler" \
      org.opencontainers.image.description="Codat Sync for Commerce merchants declared in Git: plan, apply, watch." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="https://github.com/codat-reconciler/codat-reconciler" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /wheels /wheels
# Installed with the watch extra, and nothing left behind to build or install with.
RUN pip install --no-cache-dir "/wheels/codat_reconciler-${VERSION}-py3-none-any.whl[watch]" \
    && rm -rf /wheels \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin reconciler \
    && mkdir /work \
    && chown 10001 /work

# Numeric, so Kubernetes can check runAsNonRoot without reading /etc/passwd; /work is
# where it may write (plan --out, a sandbox file).
USER 10001
WORKDIR /work
EXPOSE 8080
# Manifests come from a volume (the git-sync sidecar in examples/watch/kubernetes.yaml);
# secrets (CODAT_API_KEY, CODAT_WEBHOOK_SECRET, CODAT_RECONCILER_KEY, the merchants') from
# the environment. SIGTERM lets the change in flight finish, then exits 0.
ENTRYPOINT ["codat-reconciler"]
CMD ["watch", "/manifests", "--listen", "0.0.0.0:8080", "--log-format", "json"]
