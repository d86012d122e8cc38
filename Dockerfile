# One image for web, worker and beat (see docker-compose.yml).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY requirements.lock pyproject.toml ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY . .
# platform/ is the source root (it has no __init__.py, so it never shadows the stdlib 'platform').
ENV PYTHONPATH=/app/platform DJANGO_SETTINGS_MODULE=parley.config.settings PARLEY_VAR_DIR=/app/var
RUN PARLEY_SECRET_KEY=build-only python manage.py collectstatic --noinput
RUN useradd --system --home /app parley && chown -R parley /app/var
USER parley
EXPOSE 8000
CMD ["gunicorn", "parley.config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
