/*
 * names.c — labels and classes of the personal-data kinds (generated from the
 * DOPPEL_PII_TABLE X-macro in doppel/pii.h) and doppel_pii_classify_name(),
 * a table-driven classifier of field names: tokenizer, sorted word
 * dictionary, multi-word patterns, and the head-word rules described below.
 */
#include <doppel/pii.h>

#include "pii/pii_int.h"

#include <string.h>

/* ---- kinds and classes ------------------------------------------------- */

static const char *const kind_labels[] = {
#define DP_X(name, cls, label) label,
    DOPPEL_PII_TABLE(DP_X)
#undef DP_X
};

static const unsigned char kind_classes[] = {
#define DP_X(name, cls, label) DOPPEL_PII_CLASS_##cls,
    DOPPEL_PII_TABLE(DP_X)
#undef DP_X
};

const char *doppel_pii_kind_name(doppel_pii_kind k) {
  if ((unsigned)k >= DOPPEL_PII_KIND_COUNT) return "none";
  return kind_labels[k];
}

doppel_pii_class doppel_pii_kind_class(doppel_pii_kind k) {
  if ((unsigned)k >= DOPPEL_PII_KIND_COUNT) return DOPPEL_PII_CLASS_NONE;
  return (doppel_pii_class)kind_classes[k];
}

const char *doppel_pii_class_name(doppel_pii_class c) {
  switch (c) {
    case DOPPEL_PII_CLASS_DIRECT: return "direct_identifier";
    case DOPPEL_PII_CLASS_QUASI: return "quasi_identifier";
    case DOPPEL_PII_CLASS_SENSITIVE: return "sensitive";
    case DOPPEL_PII_CLASS_NONE: break;
  }
  return "none";
}

/* ---- field names ----------------------------------------------------------
 *
 * A field name is split into lowercase ASCII words (on any byte that is not a
 * letter, digit or UTF-8, on camelCase humps — "userEmail" → user,email;
 * "IPAddress" → ip,address — and on letter/digit changes; digit-only words
 * are dropped), each word is looked up in the dictionary, and the kind is
 * decided by the *head* word, i.e. the last one, as English compounds put the
 * meaning last ("user_email" is an e-mail, "email_verified" is a flag).
 * Rules, in order:
 *
 *   1. Multi-word patterns ending at the head win, longest first
 *      ("ip_address" → ip, "email_address" → email, "user_id" → user_id,
 *      "x_forwarded_for" → ip, "date_of_birth" → birthdate). Some patterns
 *      map to NONE on purpose ("last_login", "page_location", "server_ip").
 *   2. Otherwise the head word's own kind ("user_email" → email).
 *   3. A head that is a transparent suffix ("number", "no", "string", "value",
 *      "raw", "hash", "sha", "e", "v"...) is skipped: "phone_number" → phone,
 *      "email_sha256" → email, "phone_e164" → phone, "ipv4" → ip.
 *   4. A head with no kind means NONE ("email_verified", "ip_country",
 *      "card_brand", "author_tz_raw", "user_type").
 *   5. "name"/"names" right after a non-person qualifier is NONE
 *      ("event_name", "fileName", "host_name", "screen_name",
 *      "product_name", "company_name"...). Any other "*_name", and "name"
 *      alone, is a person's name: for user properties that is the common
 *      case, and a missed person name leaks while an over-eager one only
 *      costs utility.
 *   6. A leading negator anywhere before the match makes it NONE
 *      ("is_email_verified", "has_phone", "num_emails", "count_ip").
 *
 * Decisions (the word table below has the full lists):
 *
 *   name, *_name, first/last/full/sur/given/family/middle/display/nick
 *     name (also concatenated), author, committer, cardholder ...... name
 *   username, user_name, login, login_name, user, logname ......... user_id
 *     (an account handle: hashed like the id so joins survive)
 *   event/page/file/app/product/company/plan/campaign/browser/os/
 *     device/screen/feature/experiment/host/... + name ........... none
 *   email, mail, e-mail, email_address, mail_address .............. email
 *   phone, mobile, tel, telephone, cell, msisdn, fax .............. phone
 *   ip, ip_address, remote_addr, remote_host, client_ip, xff,
 *     x_forwarded_for .............................................. ip
 *   address, street, addr, address_line (not ip/email/mac_address) address
 *   user_id, userid, uid, distinct_id, customer/member/account/
 *     person/author/... _id, external_id ........................... user_id
 *   device_id, anonymous_id, idfa, idfv, gaid, advertising_id, mac,
 *     mac_address, cookie_id, client_id, visitor_id, push_token .... device_id
 *   ssn, social_security, national_id, passport, tax_id,
 *     driver(s)_license ............................................ ssn
 *   card, card_number, cc_number, pan, credit_card, cvv, cvc ....... card
 *   iban, bank_account, account_number ............................ iban
 *   lat, lng, lon, latitude, longitude, geo, coordinates, location,
 *     gps, geohash .................................................. location
 *   birth, dob, birthday, birthdate, birth_date/year, date_of_birth  birthdate
 *   age ............................................................ none
 *   zip, zipcode, postcode, postal_code ............................ postcode
 *   city, town, locality ........................................... city
 *   user_agent, useragent, ua ...................................... user_agent
 *   health, diagnosis, medical, religion, ethnicity, race,
 *     sexual_orientation, political*, trade_union, blood_type,
 *     gender, sex ................................................... sensitive
 *     (gender: there is no generic quasi-identifier kind, and gender
 *     identity is special-category data in practice, so it is flagged
 *     rather than left in the clear)
 *   comment, message, note, description, text, body, subject,
 *     feedback, query, search(_term), review, bio ................... free_text
 *   url, uri, href, referrer ....................................... url
 *   id, uuid, session_id, token, password, api_key ................. none
 *     (no credential kind exists; URL query values named token,
 *     session, password... are still caught by doppel_pii_find)
 *   last_login, first_login, page_location, server_ip .............. none
 *
 * At most the last 16 words count (an earlier leading negator is
 * remembered); words longer than 32 bytes are unknown. No allocation.
 */

/* Word flags. */
#define NF_TR 1u /* transparent suffix: skipped when it is the head */
#define NF_LN 2u /* leading negator: the field is about, not of, the data */
#define NF_NQ 4u /* non-person qualifier of "name" */

/* X(word, kind when it is the head, flags) — strictly sorted by word
 * (byte order); dp_pii_name_table_check() verifies it. */
#define NAME_WORDS(X) \
  X(aaid,              DEVICE_ID,  0)                        \
  X(account,           NONE,       0)                        \
  X(accountid,         USER_ID,    0)                        \
  X(action,            NONE,       NF_NQ)                    \
  X(actor,             NONE,       0)                        \
  X(ad,                NONE,       0)                        \
  X(addr,              ADDRESS,    0)                        \
  X(address,           ADDRESS,    0)                        \
  X(addresses,         ADDRESS,    0)                        \
  X(adid,              DEVICE_ID,  0)                        \
  X(advertising,       NONE,       0)                        \
  X(advertisingid,     DEVICE_ID,  0)                        \
  X(affiliation,       NONE,       0)                        \
  X(agent,             NONE,       0)                        \
  X(album,             NONE,       NF_NQ)                    \
  X(allow,             NONE,       NF_LN)                    \
  X(android,           NONE,       0)                        \
  X(anonymous,         NONE,       0)                        \
  X(anonymousid,       DEVICE_ID,  0)                        \
  X(answer,            FREE_TEXT,  0)                        \
  X(app,               NONE,       NF_NQ)                    \
  X(application,       NONE,       NF_NQ)                    \
  X(assignee,          NONE,       0)                        \
  X(attr,              NONE,       NF_NQ)                    \
  X(attribute,         NONE,       NF_NQ)                    \
  X(author,            NAME,       0)                        \
  X(avg,               NONE,       NF_LN)                    \
  X(bank,              NONE,       NF_NQ)                    \
  X(bankaccount,       IBAN,       0)                        \
  X(belief,            NONE,       0)                        \
  X(beliefs,           NONE,       0)                        \
  X(billingaddress,    ADDRESS,    0)                        \
  X(bio,               FREE_TEXT,  0)                        \
  X(biometric,         SENSITIVE,  0)                        \
  X(birth,             BIRTHDATE,  0)                        \
  X(birthdate,         BIRTHDATE,  0)                        \
  X(birthday,          BIRTHDATE,  0)                        \
  X(birthyear,         BIRTHDATE,  0)                        \
  X(blood,             NONE,       0)                        \
  X(body,              FREE_TEXT,  0)                        \
  X(branch,            NONE,       NF_NQ)                    \
  X(brand,             NONE,       NF_NQ)                    \
  X(browser,           NONE,       NF_NQ)                    \
  X(bucket,            NONE,       NF_NQ)                    \
  X(build,             NONE,       NF_NQ)                    \
  X(business,          NONE,       NF_NQ)                    \
  X(button,            NONE,       NF_NQ)                    \
  X(buyer,             NONE,       0)                        \
  X(campaign,          NONE,       NF_NQ)                    \
  X(can,               NONE,       NF_LN)                    \
  X(card,              CARD,       0)                        \
  X(cardholder,        NAME,       0)                        \
  X(cardnumber,        CARD,       0)                        \
  X(cards,             CARD,       0)                        \
  X(carrier,           NONE,       NF_NQ)                    \
  X(category,          NONE,       NF_NQ)                    \
  X(cc,                NONE,       0)                        \
  X(ccnum,             CARD,       0)                        \
  X(ccnumber,          CARD,       0)                        \
  X(cell,              PHONE,      0)                        \
  X(cellphone,         PHONE,      0)                        \
  X(channel,           NONE,       NF_NQ)                    \
  X(chart,             NONE,       NF_NQ)                    \
  X(city,              CITY,       0)                        \
  X(class,             NONE,       NF_NQ)                    \
  X(client,            NONE,       0)                        \
  X(clientid,          DEVICE_ID,  0)                        \
  X(clientip,          IP,         0)                        \
  X(cluster,           NONE,       NF_NQ)                    \
  X(cmd,               NONE,       NF_NQ)                    \
  X(code,              NONE,       0)                        \
  X(cohort,            NONE,       NF_NQ)                    \
  X(column,            NONE,       NF_NQ)                    \
  X(command,           NONE,       NF_NQ)                    \
  X(comment,           FREE_TEXT,  0)                        \
  X(comments,          FREE_TEXT,  0)                        \
  X(committer,         NAME,       0)                        \
  X(company,           NONE,       NF_NQ)                    \
  X(component,         NONE,       NF_NQ)                    \
  X(condition,         NONE,       0)                        \
  X(contact,           NONE,       0)                        \
  X(content,           NONE,       NF_NQ)                    \
  X(controller,        NONE,       NF_NQ)                    \
  X(cookie,            NONE,       NF_NQ)                    \
  X(cookieid,          DEVICE_ID,  0)                        \
  X(coordinates,       LOCATION,   0)                        \
  X(coords,            LOCATION,   0)                        \
  X(count,             NONE,       NF_LN)                    \
  X(country,           NONE,       NF_NQ)                    \
  X(coupon,            NONE,       NF_NQ)                    \
  X(course,            NONE,       NF_NQ)                    \
  X(creator,           NONE,       0)                        \
  X(credit,            NONE,       0)                        \
  X(creditcard,        CARD,       0)                        \
  X(creditcardnumber,  CARD,       0)                        \
  X(criminal,          SENSITIVE,  0)                        \
  X(customer,          NONE,       0)                        \
  X(customerid,        USER_ID,    0)                        \
  X(cvc,               CARD,       0)                        \
  X(cvv,               CARD,       0)                        \
  X(dashboard,         NONE,       NF_NQ)                    \
  X(database,          NONE,       NF_NQ)                    \
  X(date,              NONE,       0)                        \
  X(day,               NONE,       0)                        \
  X(db,                NONE,       NF_NQ)                    \
  X(debitcard,         CARD,       0)                        \
  X(description,       FREE_TEXT,  0)                        \
  X(device,            NONE,       NF_NQ)                    \
  X(deviceid,          DEVICE_ID,  0)                        \
  X(diagnosis,         SENSITIVE,  0)                        \
  X(did,               NONE,       NF_LN)                    \
  X(dir,               NONE,       NF_NQ)                    \
  X(directory,         NONE,       NF_NQ)                    \
  X(disability,        SENSITIVE,  0)                        \
  X(disable,           NONE,       NF_LN)                    \
  X(displayname,       NAME,       0)                        \
  X(distinct,          NONE,       0)                        \
  X(distinctid,        USER_ID,    0)                        \
  X(dob,               BIRTHDATE,  0)                        \
  X(doc,               NONE,       NF_NQ)                    \
  X(document,          NONE,       NF_NQ)                    \
  X(domain,            NONE,       NF_NQ)                    \
  X(driver,            NONE,       0)                        \
  X(drivers,           NONE,       0)                        \
  X(driving,           NONE,       0)                        \
  X(e,                 NONE,       NF_TR)                    \
  X(element,           NONE,       NF_NQ)                    \
  X(email,             EMAIL,      0)                        \
  X(emailaddr,         EMAIL,      0)                        \
  X(emailaddress,      EMAIL,      0)                        \
  X(emails,            EMAIL,      0)                        \
  X(employee,          NONE,       0)                        \
  X(enable,            NONE,       NF_LN)                    \
  X(entity,            NONE,       NF_NQ)                    \
  X(env,               NONE,       NF_NQ)                    \
  X(environment,       NONE,       NF_NQ)                    \
  X(ethnic,            SENSITIVE,  0)                        \
  X(ethnicity,         SENSITIVE,  0)                        \
  X(event,             NONE,       NF_NQ)                    \
  X(experiment,        NONE,       NF_NQ)                    \
  X(extension,         NONE,       NF_NQ)                    \
  X(external,          NONE,       0)                        \
  X(familyname,        NAME,       0)                        \
  X(fax,               PHONE,      0)                        \
  X(feature,           NONE,       NF_NQ)                    \
  X(feedback,          FREE_TEXT,  0)                        \
  X(field,             NONE,       NF_NQ)                    \
  X(file,              NONE,       NF_NQ)                    \
  X(first,             NONE,       0)                        \
  X(firstname,         NAME,       0)                        \
  X(flag,              NONE,       NF_NQ)                    \
  X(fname,             NAME,       0)                        \
  X(folder,            NONE,       NF_NQ)                    \
  X(font,              NONE,       NF_NQ)                    \
  X(for,               NONE,       0)                        \
  X(forename,          NAME,       0)                        \
  X(form,              NONE,       NF_NQ)                    \
  X(forwarded,         NONE,       0)                        \
  X(fullname,          NAME,       0)                        \
  X(function,          NONE,       NF_NQ)                    \
  X(gaid,              DEVICE_ID,  0)                        \
  X(game,              NONE,       NF_NQ)                    \
  X(gender,            SENSITIVE,  0)                        \
  X(genetic,           SENSITIVE,  0)                        \
  X(geo,               LOCATION,   0)                        \
  X(geohash,           LOCATION,   0)                        \
  X(geolocation,       LOCATION,   0)                        \
  X(geopoint,          LOCATION,   0)                        \
  X(givenname,         NAME,       0)                        \
  X(gps,               LOCATION,   0)                        \
  X(group,             NONE,       NF_NQ)                    \
  X(guest,             NONE,       0)                        \
  X(had,               NONE,       NF_LN)                    \
  X(hardware,          NONE,       0)                        \
  X(has,               NONE,       NF_LN)                    \
  X(hash,              NONE,       NF_TR)                    \
  X(hashed,            NONE,       NF_TR)                    \
  X(header,            NONE,       NF_NQ)                    \
  X(health,            SENSITIVE,  0)                        \
  X(hide,              NONE,       NF_LN)                    \
  X(history,           NONE,       0)                        \
  X(holder,            NONE,       0)                        \
  X(homeaddress,       ADDRESS,    0)                        \
  X(homephone,         PHONE,      0)                        \
  X(host,              NONE,       NF_NQ)                    \
  X(house,             NONE,       0)                        \
  X(href,              URL,        0)                        \
  X(http,              NONE,       0)                        \
  X(iban,              IBAN,       0)                        \
  X(icon,              NONE,       NF_NQ)                    \
  X(id,                NONE,       0)                        \
  X(idfa,              DEVICE_ID,  0)                        \
  X(idfv,              DEVICE_ID,  0)                        \
  X(image,             NONE,       NF_NQ)                    \
  X(imei,              DEVICE_ID,  0)                        \
  X(include,           NONE,       NF_LN)                    \
  X(index,             NONE,       NF_NQ)                    \
  X(install,           NONE,       0)                        \
  X(installation,      NONE,       0)                        \
  X(insurance,         NONE,       0)                        \
  X(ip,                IP,         0)                        \
  X(ipaddr,            IP,         0)                        \
  X(ipaddress,         IP,         0)                        \
  X(ips,               IP,         0)                        \
  X(ipv,               IP,         0)                        \
  X(is,                NONE,       NF_LN)                    \
  X(item,              NONE,       NF_NQ)                    \
  X(job,               NONE,       NF_NQ)                    \
  X(key,               NONE,       NF_NQ)                    \
  X(kind,              NONE,       NF_NQ)                    \
  X(language,          NONE,       NF_NQ)                    \
  X(last,              NONE,       0)                        \
  X(lastname,          NAME,       0)                        \
  X(lat,               LOCATION,   0)                        \
  X(latitude,          LOCATION,   0)                        \
  X(latlng,            LOCATION,   0)                        \
  X(latlon,            LOCATION,   0)                        \
  X(latlong,           LOCATION,   0)                        \
  X(layer,             NONE,       NF_NQ)                    \
  X(level,             NONE,       NF_NQ)                    \
  X(lib,               NONE,       NF_NQ)                    \
  X(library,           NONE,       NF_NQ)                    \
  X(licence,           NONE,       0)                        \
  X(license,           NONE,       0)                        \
  X(line,              NONE,       0)                        \
  X(list,              NONE,       NF_NQ)                    \
  X(lname,             NAME,       0)                        \
  X(lng,               LOCATION,   0)                        \
  X(locale,            NONE,       NF_NQ)                    \
  X(locality,          CITY,       0)                        \
  X(location,          LOCATION,   0)                        \
  X(login,             USER_ID,    0)                        \
  X(loginid,           USER_ID,    0)                        \
  X(logname,           USER_ID,    0)                        \
  X(lon,               LOCATION,   0)                        \
  X(longitude,         LOCATION,   0)                        \
  X(lower,             NONE,       NF_TR)                    \
  X(lowercase,         NONE,       NF_TR)                    \
  X(mac,               DEVICE_ID,  0)                        \
  X(macaddr,           DEVICE_ID,  0)                        \
  X(macaddress,        DEVICE_ID,  0)                        \
  X(machine,           NONE,       0)                        \
  X(maidenname,        NAME,       0)                        \
  X(mail,              EMAIL,      0)                        \
  X(mailaddress,       EMAIL,      0)                        \
  X(mailingaddress,    ADDRESS,    0)                        \
  X(mails,             EMAIL,      0)                        \
  X(max,               NONE,       NF_LN)                    \
  X(md,                NONE,       NF_TR)                    \
  X(medical,           SENSITIVE,  0)                        \
  X(medication,        SENSITIVE,  0)                        \
  X(member,            NONE,       0)                        \
  X(memberid,          USER_ID,    0)                        \
  X(merchant,          NONE,       NF_NQ)                    \
  X(message,           FREE_TEXT,  0)                        \
  X(messages,          FREE_TEXT,  0)                        \
  X(method,            NONE,       NF_NQ)                    \
  X(metric,            NONE,       NF_NQ)                    \
  X(middlename,        NAME,       0)                        \
  X(min,               NONE,       NF_LN)                    \
  X(mobile,            PHONE,      0)                        \
  X(mobilenumber,      PHONE,      0)                        \
  X(mobilephone,       PHONE,      0)                        \
  X(model,             NONE,       NF_NQ)                    \
  X(module,            NONE,       NF_NQ)                    \
  X(msg,               FREE_TEXT,  0)                        \
  X(msisdn,            PHONE,      0)                        \
  X(municipality,      CITY,       0)                        \
  X(n,                 NONE,       NF_LN)                    \
  X(name,              NAME,       0)                        \
  X(names,             NAME,       0)                        \
  X(national,          NONE,       0)                        \
  X(nationalid,        SSN,        0)                        \
  X(nbr,               NONE,       NF_LN|NF_TR)              \
  X(needs,             NONE,       NF_LN)                    \
  X(network,           NONE,       NF_NQ)                    \
  X(nickname,          NAME,       0)                        \
  X(no,                NONE,       NF_LN|NF_TR)              \
  X(normalized,        NONE,       NF_TR)                    \
  X(note,              FREE_TEXT,  0)                        \
  X(notes,             FREE_TEXT,  0)                        \
  X(nr,                NONE,       NF_LN|NF_TR)              \
  X(num,               NONE,       NF_LN|NF_TR)              \
  X(number,            NONE,       NF_LN|NF_TR)              \
  X(object,            NONE,       NF_NQ)                    \
  X(of,                NONE,       0)                        \
  X(opinion,           NONE,       0)                        \
  X(org,               NONE,       NF_NQ)                    \
  X(organization,      NONE,       NF_NQ)                    \
  X(orientation,       NONE,       0)                        \
  X(os,                NONE,       NF_NQ)                    \
  X(owner,             NONE,       0)                        \
  X(package,           NONE,       NF_NQ)                    \
  X(page,              NONE,       NF_NQ)                    \
  X(pan,               CARD,       0)                        \
  X(param,             NONE,       NF_NQ)                    \
  X(parameter,         NONE,       NF_NQ)                    \
  X(party,             NONE,       0)                        \
  X(passport,          SSN,        0)                        \
  X(passportnumber,    SSN,        0)                        \
  X(path,              NONE,       NF_NQ)                    \
  X(patient,           NONE,       0)                        \
  X(permission,        NONE,       NF_NQ)                    \
  X(person,            NONE,       0)                        \
  X(personid,          USER_ID,    0)                        \
  X(phone,             PHONE,      0)                        \
  X(phoneno,           PHONE,      0)                        \
  X(phonenumber,       PHONE,      0)                        \
  X(phones,            PHONE,      0)                        \
  X(pipeline,          NONE,       NF_NQ)                    \
  X(plan,              NONE,       NF_NQ)                    \
  X(player,            NONE,       0)                        \
  X(plugin,            NONE,       NF_NQ)                    \
  X(plz,               POSTCODE,   0)                        \
  X(political,         SENSITIVE,  0)                        \
  X(post,              NONE,       0)                        \
  X(postal,            POSTCODE,   0)                        \
  X(postalcode,        POSTCODE,   0)                        \
  X(postcode,          POSTCODE,   0)                        \
  X(pregnancy,         SENSITIVE,  0)                        \
  X(process,           NONE,       NF_NQ)                    \
  X(product,           NONE,       NF_NQ)                    \
  X(profile,           NONE,       0)                        \
  X(project,           NONE,       NF_NQ)                    \
  X(promo,             NONE,       NF_NQ)                    \
  X(property,          NONE,       NF_NQ)                    \
  X(push,              NONE,       0)                        \
  X(query,             FREE_TEXT,  0)                        \
  X(queue,             NONE,       NF_NQ)                    \
  X(race,              SENSITIVE,  0)                        \
  X(raw,               NONE,       NF_TR)                    \
  X(realip,            IP,         0)                        \
  X(recipient,         NONE,       0)                        \
  X(referer,           URL,        0)                        \
  X(referrer,          URL,        0)                        \
  X(region,            NONE,       NF_NQ)                    \
  X(release,           NONE,       NF_NQ)                    \
  X(religion,          SENSITIVE,  0)                        \
  X(religious,         SENSITIVE,  0)                        \
  X(remarks,           FREE_TEXT,  0)                        \
  X(remote,            NONE,       0)                        \
  X(remoteip,          IP,         0)                        \
  X(remoteuser,        USER_ID,    0)                        \
  X(reply,             FREE_TEXT,  0)                        \
  X(repo,              NONE,       NF_NQ)                    \
  X(report,            NONE,       NF_NQ)                    \
  X(reporter,          NONE,       0)                        \
  X(repository,        NONE,       NF_NQ)                    \
  X(require,           NONE,       NF_LN)                    \
  X(requires,          NONE,       NF_LN)                    \
  X(review,            FREE_TEXT,  0)                        \
  X(role,              NONE,       NF_NQ)                    \
  X(route,             NONE,       NF_NQ)                    \
  X(schema,            NONE,       NF_NQ)                    \
  X(school,            NONE,       NF_NQ)                    \
  X(scope,             NONE,       NF_NQ)                    \
  X(screen,            NONE,       NF_NQ)                    \
  X(search,            FREE_TEXT,  0)                        \
  X(searchquery,       FREE_TEXT,  0)                        \
  X(searchterm,        FREE_TEXT,  0)                        \
  X(section,           NONE,       NF_NQ)                    \
  X(security,          NONE,       0)                        \
  X(segment,           NONE,       NF_NQ)                    \
  X(seller,            NONE,       0)                        \
  X(sender,            NONE,       0)                        \
  X(server,            NONE,       NF_NQ)                    \
  X(service,           NONE,       NF_NQ)                    \
  X(sex,               SENSITIVE,  0)                        \
  X(sexual,            NONE,       0)                        \
  X(sexuality,         SENSITIVE,  0)                        \
  X(sha,               NONE,       NF_TR)                    \
  X(sheet,             NONE,       NF_NQ)                    \
  X(shippingaddress,   ADDRESS,    0)                        \
  X(shop,              NONE,       NF_NQ)                    \
  X(shopper,           NONE,       0)                        \
  X(should,            NONE,       NF_LN)                    \
  X(show,              NONE,       NF_LN)                    \
  X(site,              NONE,       NF_NQ)                    \
  X(sku,               NONE,       NF_NQ)                    \
  X(social,            NONE,       0)                        \
  X(song,              NONE,       NF_NQ)                    \
  X(source,            NONE,       NF_NQ)                    \
  X(ssn,               SSN,        0)                        \
  X(stage,             NONE,       NF_NQ)                    \
  X(state,             NONE,       NF_NQ)                    \
  X(step,              NONE,       NF_NQ)                    \
  X(store,             NONE,       NF_NQ)                    \
  X(str,               NONE,       NF_TR)                    \
  X(stream,            NONE,       NF_NQ)                    \
  X(street,            ADDRESS,    0)                        \
  X(streetaddress,     ADDRESS,    0)                        \
  X(string,            NONE,       NF_TR)                    \
  X(student,           NONE,       0)                        \
  X(subject,           FREE_TEXT,  0)                        \
  X(subscriber,        NONE,       0)                        \
  X(surname,           NAME,       0)                        \
  X(tab,               NONE,       NF_NQ)                    \
  X(table,             NONE,       NF_NQ)                    \
  X(tag,               NONE,       NF_NQ)                    \
  X(task,              NONE,       NF_NQ)                    \
  X(tax,               NONE,       0)                        \
  X(taxid,             SSN,        0)                        \
  X(team,              NONE,       NF_NQ)                    \
  X(tel,               PHONE,      0)                        \
  X(telephone,         PHONE,      0)                        \
  X(telno,             PHONE,      0)                        \
  X(template,          NONE,       NF_NQ)                    \
  X(term,              NONE,       0)                        \
  X(test,              NONE,       NF_NQ)                    \
  X(text,              FREE_TEXT,  0)                        \
  X(theme,             NONE,       NF_NQ)                    \
  X(thread,            NONE,       NF_NQ)                    \
  X(tier,              NONE,       NF_NQ)                    \
  X(token,             NONE,       0)                        \
  X(topic,             NONE,       NF_NQ)                    \
  X(total,             NONE,       NF_LN)                    \
  X(town,              CITY,       0)                        \
  X(track,             NONE,       NF_NQ)                    \
  X(trade,             NONE,       0)                        \
  X(type,              NONE,       NF_NQ)                    \
  X(ua,                USER_AGENT, 0)                        \
  X(udid,              DEVICE_ID,  0)                        \
  X(uid,               USER_ID,    0)                        \
  X(union,             NONE,       0)                        \
  X(uri,               URL,        0)                        \
  X(url,               URL,        0)                        \
  X(urls,              URL,        0)                        \
  X(user,              USER_ID,    0)                        \
  X(useragent,         USER_AGENT, 0)                        \
  X(userid,            USER_ID,    0)                        \
  X(userip,            IP,         0)                        \
  X(username,          USER_ID,    0)                        \
  X(v,                 NONE,       NF_TR)                    \
  X(val,               NONE,       NF_TR)                    \
  X(value,             NONE,       NF_TR)                    \
  X(var,               NONE,       NF_NQ)                    \
  X(variable,          NONE,       NF_NQ)                    \
  X(variant,           NONE,       NF_NQ)                    \
  X(variation,         NONE,       NF_NQ)                    \
  X(vendor,            NONE,       NF_NQ)                    \
  X(version,           NONE,       NF_NQ)                    \
  X(video,             NONE,       NF_NQ)                    \
  X(view,              NONE,       NF_NQ)                    \
  X(views,             NONE,       0)                        \
  X(visitor,           NONE,       0)                        \
  X(visitorid,         DEVICE_ID,  0)                        \
  X(wallet,            NONE,       0)                        \
  X(widget,            NONE,       NF_NQ)                    \
  X(workflow,          NONE,       NF_NQ)                    \
  X(workphone,         PHONE,      0)                        \
  X(workspace,         NONE,       NF_NQ)                    \
  X(x,                 NONE,       0)                        \
  X(xff,               IP,         0)                        \
  X(year,              NONE,       0)                        \
  X(yob,               BIRTHDATE,  0)                        \
  X(zip,               POSTCODE,   0)                        \
  X(zipcode,           POSTCODE,   0)                       



enum name_word {
#define DP_X(w, kind, flags) NW_##w,
  NAME_WORDS(DP_X)
#undef DP_X
  NW_COUNT
};

typedef struct name_entry {
  const char *word;
  unsigned char len;
  unsigned char kind;
  unsigned char flags;
} name_entry;

static const name_entry name_words[] = {
#define DP_X(w, kind, flags) {#w, (unsigned char)(sizeof(#w) - 1), DOPPEL_PII_##kind, flags},
    NAME_WORDS(DP_X)
#undef DP_X
};

/* Multi-word patterns, matched against the words ending at the head. Sorted
 * by last word (byte order), longest first within a last word, so the first
 * hit is the longest; dp_pii_name_table_check() verifies the order. */
typedef struct name_pattern {
  short w[3];
  unsigned char n;
  unsigned char kind;
} name_pattern;

#define P3(a, b, c, k) {{NW_##a, NW_##b, NW_##c}, 3, DOPPEL_PII_##k}
#define P2(a, b, k) {{NW_##a, NW_##b, -1}, 2, DOPPEL_PII_##k}

static const name_pattern name_patterns[] = {
    P2(bank, account, IBAN),
    P2(email, addr, EMAIL),
    P2(ip, addr, IP),
    P2(remote, addr, IP),
    P2(mac, addr, DEVICE_ID),
    P2(email, address, EMAIL),
    P2(mail, address, EMAIL),
    P2(ip, address, IP),
    P2(ipv, address, IP),
    P2(remote, address, IP),
    P2(server, address, NONE),
    P2(mac, address, DEVICE_ID),
    P2(wallet, address, USER_ID),
    P2(political, affiliation, SENSITIVE),
    P2(religious, affiliation, SENSITIVE),
    P2(user, agent, USER_AGENT),
    P2(religious, belief, SENSITIVE),
    P2(religious, beliefs, SENSITIVE),
    P3(date, of, birth, BIRTHDATE),
    P3(year, of, birth, BIRTHDATE),
    P3(day, of, birth, BIRTHDATE),
    P2(credit, card, CARD),
    P2(zip, code, POSTCODE),
    P2(post, code, POSTCODE),
    P2(postal, code, POSTCODE),
    P2(health, condition, SENSITIVE),
    P2(medical, condition, SENSITIVE),
    P2(birth, date, BIRTHDATE),
    P2(birth, day, BIRTHDATE),
    P2(forwarded, for, IP),
    P2(medical, history, SENSITIVE),
    P2(card, holder, NAME),
    P2(remote, host, IP),
    P2(anonymous, id, DEVICE_ID),
    P2(advertising, id, DEVICE_ID),
    P2(ad, id, DEVICE_ID),
    P2(cookie, id, DEVICE_ID),
    P2(client, id, DEVICE_ID),
    P2(device, id, DEVICE_ID),
    P2(visitor, id, DEVICE_ID),
    P2(android, id, DEVICE_ID),
    P2(hardware, id, DEVICE_ID),
    P2(machine, id, DEVICE_ID),
    P2(install, id, DEVICE_ID),
    P2(installation, id, DEVICE_ID),
    P2(browser, id, DEVICE_ID),
    P2(vendor, id, DEVICE_ID),
    P2(user, id, USER_ID),
    P2(customer, id, USER_ID),
    P2(member, id, USER_ID),
    P2(account, id, USER_ID),
    P2(person, id, USER_ID),
    P2(owner, id, USER_ID),
    P2(buyer, id, USER_ID),
    P2(seller, id, USER_ID),
    P2(subscriber, id, USER_ID),
    P2(employee, id, USER_ID),
    P2(student, id, USER_ID),
    P2(patient, id, USER_ID),
    P2(player, id, USER_ID),
    P2(profile, id, USER_ID),
    P2(contact, id, USER_ID),
    P2(shopper, id, USER_ID),
    P2(recipient, id, USER_ID),
    P2(sender, id, USER_ID),
    P2(assignee, id, USER_ID),
    P2(reporter, id, USER_ID),
    P2(creator, id, USER_ID),
    P2(actor, id, USER_ID),
    P2(external, id, USER_ID),
    P2(distinct, id, USER_ID),
    P2(guest, id, USER_ID),
    P2(author, id, USER_ID),
    P2(committer, id, USER_ID),
    P2(login, id, USER_ID),
    P2(national, id, SSN),
    P2(tax, id, SSN),
    P2(passport, id, SSN),
    P2(national, insurance, SSN),
    P2(server, ip, NONE),
    P2(driving, licence, SSN),
    P2(driver, license, SSN),
    P2(drivers, license, SSN),
    P2(driving, license, SSN),
    P2(address, line, ADDRESS),
    P2(page, location, NONE),
    P2(last, login, NONE),
    P2(first, login, NONE),
    P2(user, name, USER_ID),
    P2(login, name, USER_ID),
    P2(street, name, ADDRESS),
    P2(city, name, CITY),
    P2(town, name, CITY),
    P2(cc, no, CARD),
    P2(account, no, IBAN),
    P2(cc, num, CARD),
    P2(account, num, IBAN),
    P2(cc, number, CARD),
    P2(account, number, IBAN),
    P2(house, number, ADDRESS),
    P2(political, opinion, SENSITIVE),
    P2(sexual, orientation, SENSITIVE),
    P2(political, party, SENSITIVE),
    P2(search, query, FREE_TEXT),
    P2(social, security, SSN),
    P2(search, term, FREE_TEXT),
    P2(device, token, DEVICE_ID),
    P2(push, token, DEVICE_ID),
    P2(blood, type, SENSITIVE),
    P2(trade, union, SENSITIVE),
    P2(political, views, SENSITIVE),
    P2(birth, year, BIRTHDATE),
};

#undef P2
#undef P3

/* Index of the word w[0..n) (already lowercase) in name_words, or -1. */
static int word_lookup(const char *w, size_t n) {
  size_t lo = 0, hi = NW_COUNT;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const name_entry *e = &name_words[mid];
    size_t m = n < e->len ? n : e->len;
    int c = memcmp(w, e->word, m);
    if (c == 0) c = (n > e->len) - (n < e->len);
    if (c == 0) return (int)mid;
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return -1;
}

/* ---- tokenizer ---------------------------------------------------------- */

#define NAME_MAX_WORDS 16
#define NAME_MAX_WORD 32

typedef struct name_words_buf {
  int id[NAME_MAX_WORDS]; /* dictionary index, or -1 for an unknown word */
  unsigned n;
  unsigned dropped_flags; /* flags of words pushed out of the window */
} name_words_buf;

static unsigned word_flags(int id) { return id < 0 ? 0u : name_words[id].flags; }

static void push_word(name_words_buf *ws, const char *w, size_t n) {
  char low[NAME_MAX_WORD];
  int digits_only = 1;
  int id = -1;
  for (size_t i = 0; i < n; i++)
    if (!dp_pii_digit((unsigned char)w[i])) digits_only = 0;
  if (n == 0 || digits_only) return;
  if (n <= NAME_MAX_WORD) {
    for (size_t i = 0; i < n; i++) {
      unsigned char c = (unsigned char)w[i];
      low[i] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
    }
    id = word_lookup(low, n);
  }
  if (ws->n == NAME_MAX_WORDS) {
    ws->dropped_flags |= word_flags(ws->id[0]);
    memmove(ws->id, ws->id + 1, (NAME_MAX_WORDS - 1) * sizeof ws->id[0]);
    ws->n--;
  }
  ws->id[ws->n++] = id;
}

/* Character classes for splitting. */
enum { CH_SEP, CH_LOWER, CH_UPPER, CH_DIGIT };

static int char_class(unsigned char c) {
  if (c >= 'a' && c <= 'z') return CH_LOWER;
  if (c >= 'A' && c <= 'Z') return CH_UPPER;
  if (c >= '0' && c <= '9') return CH_DIGIT;
  if (c >= 0x80) return CH_LOWER; /* UTF-8 stays inside a word */
  return CH_SEP;
}

static void tokenize(const char *s, size_t len, name_words_buf *ws) {
  size_t start = 0;
  int prev = CH_SEP;
  ws->n = 0;
  ws->dropped_flags = 0;
  for (size_t i = 0; i < len; i++) {
    int c = char_class((unsigned char)s[i]);
    int split = 0;
    if (c == CH_SEP) {
      if (prev != CH_SEP) push_word(ws, s + start, i - start);
      prev = CH_SEP;
      continue;
    }
    if (prev == CH_SEP) {
      start = i;
      prev = c;
      continue;
    }
    if (c == CH_UPPER && prev == CH_LOWER) split = 1; /* userEmail */
    if (c == CH_UPPER && prev == CH_UPPER && i + 1 < len &&
        char_class((unsigned char)s[i + 1]) == CH_LOWER)
      split = 1; /* IPAddress: split before the 'A' */
    if ((c == CH_DIGIT) != (prev == CH_DIGIT)) split = 1; /* ipv4, e164 */
    if (split) {
      push_word(ws, s + start, i - start);
      start = i;
    }
    prev = c;
  }
  if (prev != CH_SEP) push_word(ws, s + start, len - start);
}

/* ---- classification ----------------------------------------------------- */

#define NAME_PATTERN_COUNT (sizeof name_patterns / sizeof name_patterns[0])

static int pattern_last(const name_pattern *pt) { return pt->w[pt->n - 1]; }

/* Longest pattern ending at word h: its kind and first word, or 0. */
static int match_pattern(const name_words_buf *ws, unsigned h, unsigned *first,
                         doppel_pii_kind *kind) {
  int id = ws->id[h];
  size_t lo = 0, hi = NAME_PATTERN_COUNT;
  if (id < 0) return 0;
  while (lo < hi) { /* first pattern whose last word is >= id */
    size_t mid = lo + (hi - lo) / 2;
    if (pattern_last(&name_patterns[mid]) < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  for (; lo < NAME_PATTERN_COUNT && pattern_last(&name_patterns[lo]) == id; lo++) {
    const name_pattern *pt = &name_patterns[lo];
    unsigned s, k = 0;
    if (pt->n > h + 1) continue;
    s = h + 1 - pt->n;
    while (k < pt->n && ws->id[s + k] == pt->w[k]) k++;
    if (k == pt->n) {
      *first = s;
      *kind = (doppel_pii_kind)pt->kind;
      return 1;
    }
  }
  return 0;
}

size_t dp_pii_name_table_check(void) {
  for (size_t i = 0; i < NW_COUNT; i++) {
    const name_entry *e = &name_words[i];
    if (i > 0 && strcmp(name_words[i - 1].word, e->word) >= 0) return i + 1;
    if (word_lookup(e->word, e->len) != (int)i) return i + 1;
  }
  for (size_t i = 1; i < NAME_PATTERN_COUNT; i++) {
    const name_pattern *a = &name_patterns[i - 1], *b = &name_patterns[i];
    if (pattern_last(a) > pattern_last(b) || (pattern_last(a) == pattern_last(b) && a->n < b->n))
      return NW_COUNT + i + 1;
  }
  return 0;
}

doppel_pii_kind doppel_pii_classify_name(const char *name, size_t len) {
  name_words_buf ws;
  unsigned h, first;
  doppel_pii_kind kind = DOPPEL_PII_NONE;
  int single = 0;
  if (!name || len == 0) return DOPPEL_PII_NONE;
  tokenize(name, len, &ws);
  if (ws.n == 0) return DOPPEL_PII_NONE;
  h = ws.n - 1;
  for (;;) {
    int id = ws.id[h];
    if (match_pattern(&ws, h, &first, &kind)) break;
    if (id >= 0 && name_words[id].kind != DOPPEL_PII_NONE) {
      kind = (doppel_pii_kind)name_words[id].kind;
      first = h;
      single = 1;
      break;
    }
    if (id >= 0 && (name_words[id].flags & NF_TR) && h > 0) {
      h--;
      continue;
    }
    return DOPPEL_PII_NONE;
  }
  if (kind == DOPPEL_PII_NONE) return DOPPEL_PII_NONE;
  if (single && (ws.id[first] == NW_name || ws.id[first] == NW_names) && first > 0 &&
      (word_flags(ws.id[first - 1]) & NF_NQ))
    return DOPPEL_PII_NONE;
  if (ws.dropped_flags & NF_LN) return DOPPEL_PII_NONE;
  for (unsigned i = 0; i < first; i++)
    if (word_flags(ws.id[i]) & NF_LN) return DOPPEL_PII_NONE;
  return kind;
}
