-- Dagster's run, event and schedule storage lives in its own database next to
-- SmartCrop's (compose.yaml's postgres service runs this on its first start).
CREATE DATABASE dagster OWNER smartcrop;
