-- One row per document: its id and where it lives (a Volume path, an s3:// URL, a URL...).
-- Replace the source with your own table; the model only needs a unique key and a reference.
select
    doc_id,
    file_path,
    received_at
from {{ source('landing', 'documents') }}
