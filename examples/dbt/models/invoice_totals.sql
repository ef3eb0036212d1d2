-- Plain SQL on top of the typed results: invoices and amounts per currency and year.
select
    currency,
    year(invoice_date) as invoice_year,
    count(*) as invoices,
    round(sum(total_amount), 2) as total_amount
from {{ ref('invoices_extracted') }}
where status = 'PROCESSED'
group by all
order by currency, invoice_year
