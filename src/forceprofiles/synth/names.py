"""Name tables for the synthetic population.

Britain's offenders, victims and missing children carry names of many origins, and record
linkage has to cope with all of them (spelling variants, transliteration, nicknames,
double-barrelled and swapped surnames). These lists are common given names and surnames per
broad origin, chosen to make the matching problem realistic; they describe no real person.
Each origin carries the ethnicity codes (self-defined 18+1, officer-defined IC) that its
people are most often recorded with.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Origin:
    """A broad naming origin with its share of the population and its typical codes."""

    name: str
    share: float
    male: tuple[str, ...]
    female: tuple[str, ...]
    surnames: tuple[str, ...]
    ethnicity_self: tuple[str, ...]
    ethnicity_officer: str


ORIGINS: tuple[Origin, ...] = (
    Origin(
        "british", 0.74,
        ("James", "John", "David", "Michael", "Paul", "Andrew", "Mark", "Richard", "Daniel", "Thomas",
         "Christopher", "Matthew", "Robert", "William", "Joseph", "Jack", "Oliver", "Harry", "George",
         "Samuel", "Benjamin", "Luke", "Ryan", "Jamie", "Liam", "Connor", "Callum", "Lewis", "Kieran",
         "Dean", "Lee", "Wayne", "Craig", "Gary", "Stephen", "Anthony", "Peter", "Alexander", "Nicholas",
         "Edward", "Charles", "Henry", "Jacob", "Alfie", "Charlie", "Tyler", "Bradley", "Jordan", "Aaron",
         "Sean", "Patrick", "Declan", "Ciaran", "Rhys", "Owen", "Gareth", "Dylan", "Ewan", "Alistair", "Fraser"),
        ("Sarah", "Emma", "Laura", "Rebecca", "Charlotte", "Hannah", "Jessica", "Sophie", "Emily", "Lucy",
         "Amy", "Rachel", "Katherine", "Elizabeth", "Victoria", "Jennifer", "Nicola", "Claire", "Michelle",
         "Kelly", "Lisa", "Donna", "Joanne", "Samantha", "Natalie", "Chloe", "Megan", "Olivia", "Amelia",
         "Isla", "Ella", "Grace", "Lily", "Holly", "Abigail", "Jade", "Leah", "Paige", "Courtney", "Shannon",
         "Margaret", "Susan", "Patricia", "Deborah", "Karen", "Tracey", "Siobhan", "Niamh", "Aoife",
         "Bethan", "Cerys", "Rhiannon", "Eilidh", "Kirsty", "Ellie", "Evie", "Poppy", "Zoe", "Danielle", "Stacey"),
        ("Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas", "Johnson",
         "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards", "Hughes", "Green", "Hall",
         "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood", "Turner", "Martin", "Cooper", "Hill", "Ward",
         "Morris", "Moore", "Clark", "Lee", "King", "Baker", "Harrison", "Morgan", "Allen", "James", "Scott",
         "Phillips", "Watson", "Davis", "Parker", "Price", "Bennett", "Young", "Griffiths", "Mitchell", "Kelly",
         "Cook", "Carter", "Richardson", "Bailey", "Collins", "Bell", "Shaw", "Murphy", "Miller", "Cox",
         "Richards", "Khan", "Marshall", "Anderson", "Simpson", "Ellis", "Adams", "Singh", "Begum", "Wilkinson",
         "Foster", "Chapman", "Powell", "Webb", "Rogers", "Gray", "Mason", "Ali", "Hunt", "Hussain", "Campbell",
         "Matthews", "Owen", "Palmer", "Holmes", "Mills", "Barnes", "Knight", "Lloyd", "Butler", "Russell",
         "Barker", "Fisher", "Stevens", "Jenkins", "Murray", "Dixon", "Harvey", "O'Brien", "O'Connor",
         "McDonald", "MacLeod", "Fitzgerald", "Doyle", "Gallagher", "Rees", "Pritchard", "Vaughan"),
        ("W1", "W1", "W1", "W1", "W2", "W9"), "IC1",
    ),
    Origin(
        "south_asian", 0.09,
        ("Mohammed", "Muhammad", "Ahmed", "Ali", "Hassan", "Imran", "Usman", "Bilal", "Zain", "Hamza",
         "Adil", "Tariq", "Asif", "Kamran", "Rizwan", "Faisal", "Arjun", "Rajesh", "Sanjay", "Vikram",
         "Amit", "Harpreet", "Gurpreet", "Jaswinder", "Sukhdev", "Ravinder", "Shahid", "Nadeem", "Rahul", "Anil"),
        ("Fatima", "Ayesha", "Aisha", "Zainab", "Maryam", "Amina", "Sana", "Nadia", "Shabana", "Rukhsana",
         "Priya", "Anjali", "Sunita", "Kiran", "Manpreet", "Harjit", "Simran", "Noor", "Hina", "Saima",
         "Farah", "Yasmin", "Shazia", "Nasreen", "Parveen", "Deepa", "Meera", "Pooja", "Sabrina", "Humaira"),
        ("Khan", "Ahmed", "Hussain", "Ali", "Shah", "Iqbal", "Akhtar", "Mahmood", "Rashid", "Butt", "Malik",
         "Chaudhry", "Qureshi", "Mirza", "Begum", "Uddin", "Miah", "Rahman", "Islam", "Patel", "Singh",
         "Kaur", "Sharma", "Gill", "Sandhu", "Sidhu", "Dhillon", "Kumar", "Mistry", "Joshi", "Chauhan", "Desai"),
        ("A1", "A2", "A3", "A9"), "IC4",
    ),
    Origin(
        "black_british", 0.05,
        ("Kwame", "Kofi", "Emmanuel", "Samuel", "Daniel", "Joshua", "Isaac", "Tunde", "Chidi", "Obinna",
         "Oluwaseun", "Femi", "Abdi", "Mohamed", "Ahmed", "Tyrone", "Marcus", "Andre", "Jermaine", "Leon",
         "Nathaniel", "Elijah", "Malachi", "Kayden", "Jayden", "Reuben", "Kwabena", "Yusuf", "Delroy", "Winston"),
        ("Grace", "Blessing", "Esther", "Abena", "Akosua", "Chioma", "Ngozi", "Folake", "Funmilayo", "Amara",
         "Hodan", "Fadumo", "Ayan", "Shanice", "Tanisha", "Keisha", "Chantelle", "Jada", "Aaliyah", "Imani",
         "Precious", "Adaeze", "Yetunde", "Nia", "Zara", "Marcia", "Beverley", "Simone", "Naomi", "Ruth"),
        ("Mensah", "Owusu", "Boateng", "Asante", "Okafor", "Okonkwo", "Adeyemi", "Adebayo", "Oluwole", "Eze",
         "Nwosu", "Abdi", "Hassan", "Mohamed", "Warsame", "Farah", "Campbell", "Williams", "Brown", "Clarke",
         "Francis", "Grant", "Henry", "Thomas", "Edwards", "Johnson", "Reid", "Stewart", "Osei", "Darko"),
        ("B1", "B2", "B9", "M1", "M2"), "IC3",
    ),
    Origin(
        "eastern_european", 0.06,
        ("Piotr", "Tomasz", "Krzysztof", "Łukasz", "Marcin", "Paweł", "Michał", "Jakub", "Andrzej", "Mateusz",
         "Ionut", "Andrei", "Alexandru", "Mihai", "Florin", "Bogdan", "Darius", "Mantas", "Tomas", "Jonas",
         "Vytautas", "Aleksandr", "Dmitri", "Sergei", "Oleksandr", "Janis", "Martin", "Peter", "Marek", "Dawid"),
        ("Anna", "Katarzyna", "Magdalena", "Agnieszka", "Joanna", "Monika", "Natalia", "Aleksandra", "Karolina",
         "Ewa", "Ioana", "Andreea", "Elena", "Maria", "Alina", "Cristina", "Simona", "Ruta", "Egle", "Ieva",
         "Olga", "Tatiana", "Irina", "Oksana", "Daria", "Kristina", "Zuzana", "Lucie", "Petra", "Weronika"),
        ("Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski", "Zieliński",
         "Szymański", "Woźniak", "Popescu", "Ionescu", "Popa", "Stan", "Dumitru", "Constantin", "Kazlauskas",
         "Petrauskas", "Jankauskas", "Ivanov", "Petrov", "Kovalenko", "Bondarenko", "Horvath", "Novak",
         "Berzins", "Ozols", "Dvořák", "Svoboda", "Balogh"),
        ("W9", "W9", "W9", "W1"), "IC2",
    ),
    Origin(
        "east_asian", 0.02,
        ("Wei", "Jun", "Hao", "Ming", "Jian", "Chen", "Lei", "Kai", "Minh", "Duc", "Tuan", "Quang", "Hung",
         "Thanh", "Long", "Bao", "Jin", "Tao", "Yong", "Hiroshi"),
        ("Mei", "Li", "Xin", "Ying", "Hui", "Lan", "Yan", "Jing", "Linh", "Trang", "Huong", "Thu", "Ngoc",
         "Mai", "Hoa", "Xiao", "Ling", "Fang", "Yumi", "Hana"),
        ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Nguyen", "Tran", "Le",
         "Pham", "Hoang", "Phan", "Vu", "Dang", "Wong", "Chan"),
        ("A4", "A9", "O9"), "IC5",
    ),
    Origin(
        "middle_eastern", 0.04,
        ("Mehmet", "Mustafa", "Ahmet", "Emre", "Kemal", "Serkan", "Omar", "Khalid", "Yousef", "Ibrahim",
         "Karwan", "Rebin", "Dilshad", "Amir", "Reza", "Ali", "Hussein", "Mahmoud", "Samir", "Nabil"),
        ("Ayse", "Fatma", "Elif", "Zeynep", "Leyla", "Hawre", "Shilan", "Layla", "Rania", "Dina",
         "Mariam", "Noura", "Samira", "Yasmin", "Parisa", "Shirin", "Nazanin", "Lina", "Huda", "Salma"),
        ("Yilmaz", "Kaya", "Demir", "Sahin", "Celik", "Aydin", "Ozturk", "Arslan", "Dogan", "Kilic",
         "Ahmadi", "Hosseini", "Karimi", "Rahimi", "Mohammadi", "Hamid", "Saleh", "Aziz", "Abdullah", "Mustafa"),
        ("O1", "O9", "W9", "A9"), "IC6",
    ),
)

# Nicknames and short forms a records system may hold instead of the formal name.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "William": ("Bill", "Will", "Billy", "Liam"), "Robert": ("Bob", "Rob", "Bobby", "Robbie"),
    "Richard": ("Rich", "Dick", "Richie"), "James": ("Jim", "Jimmy", "Jamie"), "John": ("Jack", "Johnny"),
    "Michael": ("Mike", "Mick", "Micky"), "Christopher": ("Chris", "Kit"), "Matthew": ("Matt",),
    "Daniel": ("Dan", "Danny"), "Thomas": ("Tom", "Tommy"), "Anthony": ("Tony", "Ant"),
    "Andrew": ("Andy", "Drew"), "Joseph": ("Joe", "Joey"), "Alexander": ("Alex", "Sandy", "Xander"),
    "Nicholas": ("Nick", "Nicky"), "Edward": ("Ed", "Eddie", "Ted"), "Charles": ("Charlie", "Chas"),
    "Henry": ("Harry", "Hal"), "Benjamin": ("Ben", "Benny"), "Samuel": ("Sam", "Sammy"),
    "Stephen": ("Steve", "Stevie"), "Peter": ("Pete",), "David": ("Dave", "Davy"), "Jacob": ("Jake",),
    "Patrick": ("Pat", "Paddy"), "Bradley": ("Brad",), "Nathaniel": ("Nate", "Nathan"),
    "Elizabeth": ("Liz", "Beth", "Lizzie", "Betty"), "Katherine": ("Kate", "Katie", "Kathy", "Kat"),
    "Rebecca": ("Becky", "Becca"), "Jennifer": ("Jen", "Jenny"), "Victoria": ("Vicky", "Tori"),
    "Samantha": ("Sam", "Sammy"), "Margaret": ("Maggie", "Peggy", "Meg"), "Patricia": ("Pat", "Trish"),
    "Deborah": ("Debbie", "Deb"), "Abigail": ("Abbie", "Abby"), "Charlotte": ("Charlie", "Lottie"),
    "Natalie": ("Nat",), "Danielle": ("Dani",), "Susan": ("Sue", "Susie"), "Nicola": ("Nicky", "Nikki"),
    "Jessica": ("Jess", "Jessie"), "Olivia": ("Liv", "Livvy"), "Amelia": ("Millie", "Amy"),
    "Muhammad": ("Mohammed", "Mohamed", "Mohammad"), "Mohammed": ("Muhammad", "Mohamed", "Mohd"),
    "Aleksandr": ("Alexander", "Sasha"), "Oleksandr": ("Alexander", "Sasha"), "Dmitri": ("Dmitry", "Dima"),
    "Łukasz": ("Lukasz", "Luke"), "Paweł": ("Pawel", "Paul"), "Michał": ("Michal", "Michael"),
    "Jakub": ("Kuba", "Jacob"), "Piotr": ("Peter",), "Tomasz": ("Tomek", "Thomas"),
}

# Transliteration and anglicised spellings that records systems produce for the same name.
SPELLING_VARIANTS: dict[str, tuple[str, ...]] = {
    "Wiśniewski": ("Wisniewski",), "Wójcik": ("Wojcik",), "Kamiński": ("Kaminski",),
    "Zieliński": ("Zielinski",), "Szymański": ("Szymanski",), "Woźniak": ("Wozniak",),
    "Dvořák": ("Dvorak",), "Ahmed": ("Ahmad",), "Hussain": ("Hussein", "Husain"), "Chaudhry": ("Choudhury", "Chaudhary"),
    "Mahmood": ("Mahmud", "Mehmood"), "Rahman": ("Rehman",), "Uddin": ("Udin",), "Mohamed": ("Mohammed",),
    "Siobhan": ("Shivaun", "Siobhán"), "Niamh": ("Neve",), "Aoife": ("Eva",), "Zoe": ("Zoë",),
    "Yousef": ("Yusuf", "Youssef"), "Yusuf": ("Yousef",), "Hussein": ("Hussain",), "Mustafa": ("Mostafa",),
    "Nguyen": ("Nguyễn",), "MacLeod": ("McLeod",), "McDonald": ("MacDonald",), "O'Brien": ("OBrien", "O Brien"),
    "O'Connor": ("OConnor", "O Connor"), "Zhang": ("Chang",), "Ioana": ("Joanna",),
}
