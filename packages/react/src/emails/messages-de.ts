import type { EmailMessages } from './messages.js';

const REPORT_NAMES = { daily: 'Tagesbericht', weekly: 'Wochenbericht', monthly: 'Monatsbericht' } as const;
/** How the intro names the period: „für den 25. November 2026“, „für die Woche 16.–22. November 2026“, „für Oktober 2026“. */
const PERIOD_NAMES = { daily: 'den ', weekly: 'die Woche ', monthly: '' } as const;

const invoices = (periods: number, text: string) => (periods === 1 ? 'Ihre nächste Rechnung' : `Ihre nächsten ${text} Rechnungen`);

/** German, formal address ("Sie"). */
export const de: EmailMessages = {
  common: {
    greeting: (name) => (name ? `Hallo ${name},` : 'Hallo,'),
    credits: (amount, one) => `${amount} ${one ? 'Credit' : 'Credits'}`,
    unlimitedCredits: 'unbegrenzt viele Credits',
    pricePerPeriod: (price) => `${price} pro Abrechnungszeitraum`,
    signOffLead: 'Vielen Dank,',
    signOff: (product) => `Ihr ${product}-Team`,
    datesInUtc: 'Alle Daten sind in UTC angegeben.',
    support: 'Fragen? Schreiben Sie uns an',
    accountReason: (product) => `Sie erhalten diese E-Mail, weil Sie ein Konto bei ${product} haben.`,
    adminReason: (product) => `Sie erhalten diesen Bericht, weil Ihre Adresse in der Empfängerliste der Berichte von ${product} steht.`,
    unsubscribe: {
      welcome: 'Willkommens-E-Mails abbestellen',
      low_balance: 'E-Mails zu niedrigem Guthaben abbestellen',
      monthly_reset: 'E-Mails zur Guthaben-Erneuerung abbestellen',
      coupon_redeemed: 'E-Mails zu Gutscheinen abbestellen',
      tier_changed: 'E-Mails zu Tarifwechseln abbestellen',
      payment_failed: 'E-Mails zu Zahlungen abbestellen',
      provider_balance_low: 'E-Mails zum Anbieter-Guthaben abbestellen',
    },
    required: (reason) => `Diese E-Mails lassen sich nicht abbestellen. ${reason}`,
    facts: {
      plan: 'Tarif',
      previousPlan: 'Bisheriger Tarif',
      newPlan: 'Neuer Tarif',
      credits: 'Credits',
      remaining: 'Verbleibend',
      allowance: 'Kontingent',
      renewsOn: 'Erneuerung am',
      period: 'Zeitraum',
      price: 'Preis',
      effective: 'Gültig ab',
      amountDue: 'Fälliger Betrag',
      attempt: 'Versuch',
      nextAttempt: 'Nächster Versuch',
      code: 'Code',
      benefit: 'Vorteil',
      expires: 'Verfällt am',
    },
  },
  welcome: {
    subject: ({ product }) => `Willkommen bei ${product}`,
    heading: ({ product }) => `Willkommen bei ${product}`,
    intro: ({ tier }) => `Ihr Konto ist eingerichtet. Sie nutzen den Tarif ${tier}.`,
    allowance: ({ credits }) => `Ihr Tarif enthält ${credits} pro Abrechnungszeitraum.`,
    cta: 'Zum Dashboard',
  },
  lowBalance: {
    subject: ({ product }) => `Ihr ${product}-Guthaben wird knapp`,
    heading: 'Ihr Guthaben wird knapp',
    remaining: ({ remaining, allowance }) => `Von den ${allowance} dieses Zeitraums bleiben Ihnen noch ${remaining}.`,
    renews: ({ date }) => `Ihr Kontingent wird am ${date} erneuert.`,
    noRenewal: 'Ihr Tarif erneuert die Credits nicht automatisch.',
    advice: 'Kaufen Sie Credits nach oder wechseln Sie den Tarif, um ohne Unterbrechung weiterzuarbeiten.',
    cta: 'Credits hinzufügen',
  },
  monthlyReset: {
    subject: ({ product }) => `Ihr ${product}-Guthaben wurde erneuert`,
    heading: 'Ihr Guthaben wurde erneuert',
    renewed: ({ tier, credits }) => `Die ${credits} Ihres Tarifs ${tier} stehen Ihnen wieder zur Verfügung.`,
    period: ({ start, end }) => `Der neue Zeitraum läuft vom ${start} bis zum ${end}.`,
    cta: 'Verbrauch ansehen',
  },
  couponRedeemed: {
    subject: ({ code }) => `Gutschein ${code} wurde eingelöst`,
    heading: 'Ihr Gutschein wurde eingelöst',
    credits: ({ code, credits }) => `Der Gutschein ${code} hat Ihrem Konto ${credits} gutgeschrieben.`,
    expires: ({ date }) => `Diese Credits verfallen am ${date}.`,
    noExpiry: 'Diese Credits verfallen nicht.',
    percentOff: ({ code, percent, periods, periodsText }) =>
      `Der Gutschein ${code} gewährt ${percent} Rabatt auf ${invoices(periods, periodsText)}.`,
    percentOffBenefit: ({ percent, periods, periodsText }) =>
      `${percent} Rabatt auf ${periods === 1 ? '1 Rechnung' : `${periodsText} Rechnungen`}`,
    cta: 'Konto ansehen',
  },
  tierUpgraded: {
    subjectNow: ({ product, to }) => `Ihr ${product}-Tarif ist jetzt ${to}`,
    subjectScheduled: ({ product, to, date }) => `Ihr ${product}-Tarif wechselt am ${date} zu ${to}`,
    headingNow: ({ to }) => `Willkommen bei ${to}`,
    headingScheduled: ({ to, date }) => `Am ${date} wechseln Sie zu ${to}`,
    changedNow: ({ from, to, date }) => `Sie haben am ${date} von ${from} zu ${to} gewechselt. Der neue Tarif gilt ab sofort.`,
    changesScheduled: ({ from, to, date }) => `Ihr Tarif wechselt am ${date} von ${from} zu ${to}.`,
    includes: ({ to, credits }) => `${to} enthält ${credits} pro Abrechnungszeitraum.`,
    price: ({ to, price }) => `${to} kostet ${price} pro Abrechnungszeitraum.`,
    cta: 'Tarif ansehen',
  },
  tierDowngraded: {
    subjectNow: ({ product, to }) => `Ihr ${product}-Tarif ist jetzt ${to}`,
    subjectScheduled: ({ product, to, date }) => `Ihr ${product}-Tarif wechselt am ${date} zu ${to}`,
    headingNow: ({ to }) => `Ihr Tarif ist jetzt ${to}`,
    headingScheduled: ({ to, date }) => `Ihr Tarif wechselt am ${date} zu ${to}`,
    changedNow: ({ from, to, date }) => `Ihr Tarif wurde am ${date} von ${from} zu ${to} geändert.`,
    changesScheduled: ({ from, to, date }) =>
      `Ihr Tarif wechselt am ${date} von ${from} zu ${to}. Bis dahin steht Ihnen alles aus ${from} weiter zur Verfügung.`,
    includes: ({ to, credits }) => `${to} enthält ${credits} pro Abrechnungszeitraum.`,
    price: ({ to, price }) => `${to} kostet ${price} pro Abrechnungszeitraum.`,
    cta: 'Tarif prüfen',
  },
  paymentFailed: {
    subject: ({ product, amount }) => `Ihre ${product}-Zahlung über ${amount} ist fehlgeschlagen`,
    heading: 'Ihre Zahlung ist fehlgeschlagen',
    failed: ({ amount }) => `Wir konnten ${amount} nicht von Ihrer Zahlungsmethode abbuchen.`,
    attempt: ({ attempt }) => `Das war Versuch ${attempt}.`,
    retry: ({ date }) => `Wir versuchen es am ${date} erneut.`,
    noRetry: 'Wir versuchen es nicht automatisch erneut.',
    advice: 'Bitte aktualisieren Sie Ihre Zahlungsmethode, damit Ihr Zugang erhalten bleibt.',
    cta: 'Zahlungsmethode aktualisieren',
  },
  analyticsReport: {
    subject: ({ product, cadence, period }) => `${product}-${REPORT_NAMES[cadence]}: ${period}`,
    heading: ({ cadence }) => `Ihr ${REPORT_NAMES[cadence]}`,
    intro: ({ product, cadence, period }) => `Hier sind die Zahlen von ${product} für ${PERIOD_NAMES[cadence]}${period}.`,
    mrr: ({ mrr, change, growth }) => `Der MRR lag am Ende des Zeitraums bei ${mrr} (${change}${growth === null ? '' : `, ${growth}`}).`,
    usage: ({ calls, callCount, credits, active, activeCount }) =>
      `${calls} ${callCount === 1 ? 'Aufruf hat' : 'Aufrufe haben'} ${credits} verbraucht; ${active} ${activeCount === 1 ? 'Kunde war' : 'Kunden waren'} aktiv.`,
    margin: ({ revenue, cost, margin, percent }) =>
      `Dem Umsatz von ${revenue} standen ${cost} Anbieterkosten gegenüber: eine Marge von ${margin}${percent === null ? '' : ` (${percent})`}.`,
    attachment: ({ format }) =>
      format === 'pdf'
        ? 'Den vollständigen Bericht finden Sie im Anhang als PDF.'
        : 'Den vollständigen Bericht finden Sie im Anhang als CSV-Dateien, eine pro Tabelle.',
    noTopCustomers: 'In diesem Zeitraum wurden keinem Kunden Credits berechnet.',
    sections: {
      mrr: 'Monatlich wiederkehrender Umsatz (MRR)',
      customers: 'Kunden',
      usage: 'Nutzung und Marge',
      topCustomers: (count) => (count === 1 ? 'Der Kunde mit den meisten Credits' : `Die ${count} Kunden mit den meisten Credits`),
    },
    facts: {
      mrrAtEnd: 'MRR am Ende',
      mrrAtStart: 'MRR am Anfang',
      netChange: 'Nettoveränderung',
      new: 'Neu',
      expansion: 'Erweiterung',
      reactivation: 'Reaktivierung',
      contraction: 'Verkleinerung',
      churn: 'Abwanderung',
      signUps: 'Neuanmeldungen',
      activeCustomers: 'Aktive Kunden',
      totalCustomers: 'Kunden insgesamt',
      calls: 'Aufrufe',
      tokens: 'Tokens',
      creditsCharged: 'Berechnete Credits',
      revenue: 'Umsatz',
      providerCost: 'Anbieterkosten',
      margin: 'Marge',
    },
    topCustomer: ({ credits, calls, callCount }) => `${credits} · ${calls} ${callCount === 1 ? 'Aufruf' : 'Aufrufe'}`,
    topCustomerLabel: ({ rank, customerId, tier }) => `${rank}. ${customerId} (${tier})`,
    cta: 'Dashboard öffnen',
  },
};
