-- PDFs were imported with the platform "documents", which no filter offers: the web app's
-- platform filter (and its icon) call them "pdf", as the importer now does.
update public.sources set platform = 'pdf' where kind = 'pdf' and platform = 'documents';
