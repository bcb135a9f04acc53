-- No statement reads it (likely duplicates are the nearest names by trigram distance, from
-- contacts_search_trgm), and it cost every create and rename one more index write.
DROP INDEX contacts_name;
