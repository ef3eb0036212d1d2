-- One row per document file: the input table of the Python model.
select
    file as path,
    parse_filename(file) as name
from glob('{{ var("documents_glob") }}')
order by path
