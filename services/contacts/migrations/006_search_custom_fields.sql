-- Search covers custom text and email values. Writes compute a contact's search text with its
-- custom words (fields::SearchWords); this trigger recomputes it when values change in bulk
-- without it (archiving or deleting a field rewrites every record's values), so nothing stays
-- searchable after its value is hidden or gone.

-- The same words as fields::SearchWords: text values (their first 200 characters) and emails,
-- in key order.
CREATE FUNCTION custom_field_words(v jsonb) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT string_agg(coalesce(left(e.value ->> 'text', 200), e.value ->> 'email'), ' ' ORDER BY e.key)
  FROM jsonb_each(v) e
  WHERE e.value ? 'text' OR e.value ? 'email'
$$;

CREATE FUNCTION contacts_search_text() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  NEW.search_text := concat_ws(' ', NEW.given_name, NEW.family_name,
                               array_to_string(NEW.emails, ' '), array_to_string(NEW.phones, ' '),
                               contacts.custom_field_words(NEW.custom_fields));
  RETURN NEW;
END
$$;

-- Only for changes of values that left the search text as it was: writes set both, and a
-- per-row trigger on every insert would cost a third of an insert's time.
CREATE TRIGGER contacts_search_text
  BEFORE UPDATE OF custom_fields ON contacts
  FOR EACH ROW
  WHEN (OLD.custom_fields IS DISTINCT FROM NEW.custom_fields
        AND OLD.search_text IS NOT DISTINCT FROM NEW.search_text)
  EXECUTE FUNCTION contacts_search_text();

UPDATE contacts SET search_text = concat_ws(' ', given_name, family_name,
                                            array_to_string(emails, ' '),
                                            array_to_string(phones, ' '),
                                            custom_field_words(custom_fields))
  WHERE custom_fields <> '{}';
